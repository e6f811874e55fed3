//! Rendered text → documents: split on `---`, read kind and name, refuse empty values,
//! and order them so that what others depend on is applied first.

use serde_json::Value;

use super::RenderError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub component: String,
    pub template: String,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The document's YAML, as rendered, ending in a newline.
    pub yaml: String,
}

/// Apply order by kind: namespaces, then definitions, identities and config, then
/// what runs.
const KIND_ORDER: [&str; 17] = [
    "Namespace",
    "CustomResourceDefinition",
    "PriorityClass",
    "RuntimeClass",
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "Service",
    "DaemonSet",
    "Deployment",
    "StatefulSet",
    "Job",
];

fn kind_rank(kind: &str) -> usize {
    KIND_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KIND_ORDER.len())
}

/// The memory the workloads among `docs` request, in bytes: every container of every
/// replica (a DaemonSet counts once: this is one node). Jobs run and finish, so they
/// do not count.
pub fn requested_memory(docs: &[Document]) -> u64 {
    docs.iter()
        .filter(|d| matches!(d.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet"))
        .filter_map(|d| serde_saphyr::from_str::<Value>(&d.yaml).ok())
        .map(|v| {
            let replicas = v["spec"]["replicas"].as_u64().unwrap_or(1);
            let per_pod: u64 = v["spec"]["template"]["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["resources"]["requests"]["memory"].as_str())
                .filter_map(crate::units::quantity)
                .sum();
            replicas * per_pod
        })
        .sum()
}

pub fn sort(docs: &mut [Document]) {
    docs.sort_by(|a, b| {
        (kind_rank(&a.kind), &a.name, &a.template).cmp(&(kind_rank(&b.kind), &b.name, &b.template))
    });
}

/// The path of the first empty string in a document, if any.
fn empty_field(value: &Value, path: &str) -> Option<String> {
    match value {
        Value::String(s) if s.is_empty() => Some(path.trim_start_matches('.').to_string()),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| empty_field(v, &format!("{path}.{k}"))),
        // RBAC names the core API group with the empty string.
        Value::Array(_) if path.ends_with(".apiGroups") => None,
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| empty_field(v, &format!("{path}[{i}]"))),
        _ => None,
    }
}

pub fn split(component: &str, template: &str, text: &str) -> Result<Vec<Document>, RenderError> {
    let mut out = Vec::new();
    let mut chunks: Vec<String> = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            chunks.push(String::new());
        } else if let Some(last) = chunks.last_mut() {
            last.push_str(line);
            last.push('\n');
        }
    }
    for chunk in chunks {
        let body = chunk.trim_start_matches('\n');
        let meaningful = body
            .lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
        if !meaningful {
            continue;
        }
        let value: Value = serde_saphyr::from_str(body).map_err(|e| RenderError::Yaml {
            component: component.to_string(),
            template: template.to_string(),
            message: e.to_string(),
        })?;
        let text_of = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let kind = text_of(&value["kind"]);
        let name = text_of(&value["metadata"]["name"]);
        if let Some(field) = empty_field(&value, "") {
            return Err(RenderError::EmptyValue {
                component: component.to_string(),
                kind,
                name,
                field,
            });
        }
        out.push(Document {
            component: component.to_string(),
            template: template.to_string(),
            api_version: text_of(&value["apiVersion"]),
            kind,
            name,
            namespace: value["metadata"]["namespace"].as_str().map(str::to_string),
            yaml: body.to_string(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_orders_and_refuses_empty_values() {
        let text = "# comment only\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: b\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: \"1\"\n";
        let mut docs = split("c", "t.yaml", text).unwrap();
        assert_eq!(docs.len(), 2);
        sort(&mut docs);
        assert_eq!(docs[0].kind, "ConfigMap");
        let bad = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: \"\"\n";
        let e = split("c", "t.yaml", bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "component `c`, ConfigMap `a`: field `data.x` rendered empty"
        );
        let e = split("c", "t.yaml", "kind: [\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("component `c`, template `t.yaml`: not valid YAML")
        );
    }
}
