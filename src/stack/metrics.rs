//! PURE: llama-server's live figures from its Prometheus text (`/metrics`): prompt and
//! generation throughput, requests in flight and waiting, and the totals.

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Live {
    /// Average prompt processing throughput, tokens/s (`llamacpp:prompt_tokens_seconds`).
    pub prompt_tokens_per_s: Option<f64>,
    /// Average generation throughput, tokens/s (`llamacpp:predicted_tokens_seconds`).
    pub generation_tokens_per_s: Option<f64>,
    pub requests_processing: Option<f64>,
    pub requests_deferred: Option<f64>,
    pub prompt_tokens_total: Option<f64>,
    pub generated_tokens_total: Option<f64>,
}

/// The first sample of `name`, labels ignored.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let rest = l.strip_prefix(name)?;
            // `name{...} v` or `name v`, not a longer name sharing the prefix.
            let rest = match rest.chars().next()? {
                '{' => &rest[rest.find('}')? + 1..],
                ' ' | '\t' => rest,
                _ => return None,
            };
            rest.split_whitespace().next()?.parse::<f64>().ok()
        })
        .filter(|v| v.is_finite())
}

pub fn parse(text: &str) -> Live {
    Live {
        prompt_tokens_per_s: sample(text, "llamacpp:prompt_tokens_seconds"),
        generation_tokens_per_s: sample(text, "llamacpp:predicted_tokens_seconds"),
        requests_processing: sample(text, "llamacpp:requests_processing"),
        requests_deferred: sample(text, "llamacpp:requests_deferred"),
        prompt_tokens_total: sample(text, "llamacpp:prompt_tokens_total"),
        generated_tokens_total: sample(text, "llamacpp:tokens_predicted_total"),
    }
}

#[cfg(test)]
mod tests {
    /// As llama-server b9014 prints it (`server_context::metrics` format).
    const TEXT: &str = "# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.\n# TYPE llamacpp:prompt_tokens_total counter\nllamacpp:prompt_tokens_total 1042\n# HELP llamacpp:prompt_seconds_total Prompt process time\n# TYPE llamacpp:prompt_seconds_total counter\nllamacpp:prompt_seconds_total 1.93\n# HELP llamacpp:tokens_predicted_total Number of generation tokens processed.\n# TYPE llamacpp:tokens_predicted_total counter\nllamacpp:tokens_predicted_total 512\n# HELP llamacpp:prompt_tokens_seconds Average prompt throughput in tokens/s.\n# TYPE llamacpp:prompt_tokens_seconds gauge\nllamacpp:prompt_tokens_seconds 539.896\n# HELP llamacpp:predicted_tokens_seconds Average generation throughput in tokens/s.\n# TYPE llamacpp:predicted_tokens_seconds gauge\nllamacpp:predicted_tokens_seconds 21.43\n# TYPE llamacpp:requests_processing gauge\nllamacpp:requests_processing 1\n# TYPE llamacpp:requests_deferred gauge\nllamacpp:requests_deferred 0\n";

    #[test]
    fn reads_the_figures_and_not_longer_names() {
        let live = super::parse(TEXT);
        assert_eq!(live.prompt_tokens_per_s, Some(539.896));
        assert_eq!(live.generation_tokens_per_s, Some(21.43));
        assert_eq!(live.requests_processing, Some(1.0));
        assert_eq!(live.requests_deferred, Some(0.0));
        assert_eq!(live.prompt_tokens_total, Some(1042.0));
        assert_eq!(live.generated_tokens_total, Some(512.0));
        assert_eq!(
            super::parse("llamacpp:prompt_tokens_seconds_x 3\n").prompt_tokens_per_s,
            None
        );
        assert_eq!(super::parse("").requests_processing, None);
    }
}
