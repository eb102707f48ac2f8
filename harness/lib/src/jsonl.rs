//! JSONL reading that tolerates what Python's `json` writes and serde_json refuses.
//!
//! evalplus datasets contain `Infinity`, `-Infinity` and `NaN` in their input lists (Python's
//! `json.dumps` writes them). The harness never needs those values on the host: it splits a
//! line's top-level object into raw field texts, parses the simple fields with serde_json and
//! hands the raw input lists to the guest, where Python's `json.loads` reads them.

use anyhow::{Result, bail};

/// The top-level fields of one JSON object, as (key, raw value text) pairs in line order.
pub fn object_fields(line: &str) -> Result<Vec<(String, &str)>> {
    let bytes = line.as_bytes();
    let mut pos = skip_ws(bytes, 0);
    if bytes.get(pos) != Some(&b'{') {
        bail!("expected a JSON object");
    }
    pos += 1;
    let mut fields = Vec::new();
    loop {
        pos = skip_ws(bytes, pos);
        match bytes.get(pos) {
            Some(b'}') => break,
            Some(b'"') => {}
            _ => bail!("expected a key at byte {pos}"),
        }
        let key_end = string_end(bytes, pos)?;
        let key: String = serde_json::from_str(&line[pos..key_end])?;
        pos = skip_ws(bytes, key_end);
        if bytes.get(pos) != Some(&b':') {
            bail!("expected ':' after key {key:?}");
        }
        pos = skip_ws(bytes, pos + 1);
        let value_start = pos;
        let value_end = value_end(bytes, pos)?;
        fields.push((key, line[value_start..value_end].trim_end()));
        pos = skip_ws(bytes, value_end);
        match bytes.get(pos) {
            Some(b',') => pos += 1,
            Some(b'}') => break,
            _ => bail!("expected ',' or '}}' at byte {pos}"),
        }
    }
    if skip_ws(bytes, pos + 1) != bytes.len() {
        bail!("trailing characters after the JSON object");
    }
    Ok(fields)
}

/// The items of a JSON array, as raw texts.
pub fn array_items(text: &str) -> Result<Vec<&str>> {
    let bytes = text.as_bytes();
    let mut pos = skip_ws(bytes, 0);
    if bytes.get(pos) != Some(&b'[') {
        bail!("expected a JSON array");
    }
    pos = skip_ws(bytes, pos + 1);
    let mut items = Vec::new();
    if bytes.get(pos) == Some(&b']') {
        return Ok(items);
    }
    loop {
        pos = skip_ws(bytes, pos);
        let end = item_end(bytes, pos)?;
        items.push(text[pos..end].trim_end());
        pos = skip_ws(bytes, end);
        match bytes.get(pos) {
            Some(b',') => pos += 1,
            Some(b']') => return Ok(items),
            _ => bail!("expected ',' or ']' at byte {pos}"),
        }
    }
}

/// Parses JSON as Python writes it: bare `NaN`, `Infinity` and `-Infinity` become strings.
pub fn lenient_value(text: &str) -> Result<serde_json::Value> {
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    let mut fixed = String::with_capacity(text.len() + 16);
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'"' {
            let end = string_end(bytes, i)?;
            fixed.push_str(&text[i..end]);
            i = end;
            continue;
        }
        let rest = &text[i..];
        if let Some(token) = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|t| rest.starts_with(t))
        {
            fixed.push('"');
            fixed.push_str(token);
            fixed.push('"');
            i += token.len();
            continue;
        }
        let c = rest.chars().next().unwrap();
        fixed.push(c);
        i += c.len_utf8();
    }
    Ok(serde_json::from_str(&fixed)?)
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while pos < bytes.len() && bytes[pos].is_ascii_whitespace() {
        pos += 1;
    }
    pos
}

/// Index just past the string starting at `pos` (which holds `"`).
fn string_end(bytes: &[u8], pos: usize) -> Result<usize> {
    let mut i = pos + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            _ => i += 1,
        }
    }
    bail!("unterminated string")
}

/// Index just past the array item starting at `pos`.
fn item_end(bytes: &[u8], pos: usize) -> Result<usize> {
    value_end(bytes, pos)
}

/// Index just past the value starting at `pos`.
fn value_end(bytes: &[u8], pos: usize) -> Result<usize> {
    let mut depth = 0usize;
    let mut i = pos;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i = string_end(bytes, i)?;
                if depth == 0 {
                    return Ok(i);
                }
                continue;
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            b',' | b'}' | b']' if depth == 0 => return Ok(i),
            _ => {}
        }
        i += 1;
    }
    if depth == 0 && i > pos {
        return Ok(i);
    }
    bail!("unterminated value")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_fields_with_python_json_values() {
        let line = r#"{"task_id": "HumanEval/0", "base_input": [[1.0, -Infinity], [NaN, "a,]}\""]], "atol": 1e-06, "n": {"x": [1]}}"#;
        let fields = object_fields(line).unwrap();
        let keys: Vec<_> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["task_id", "base_input", "atol", "n"]);
        assert_eq!(fields[0].1, r#""HumanEval/0""#);
        assert_eq!(fields[1].1, r#"[[1.0, -Infinity], [NaN, "a,]}\""]]"#);
        assert_eq!(fields[2].1, "1e-06");
        assert_eq!(fields[3].1, r#"{"x": [1]}"#);
    }

    #[test]
    fn rejects_non_objects_and_garbage() {
        assert!(object_fields("[1, 2]").is_err());
        assert!(object_fields(r#"{"a": 1"#).is_err());
        assert!(object_fields(r#"{"a": 1} x"#).is_err());
        assert!(object_fields(r#"{"a" 1}"#).is_err());
        assert!(object_fields(r#"{"a": "unterminated}"#).is_err());
    }

    #[test]
    fn splits_arrays_and_reads_python_floats() {
        let items = array_items(r#"[[1, -Infinity], "a]", {"k": [2]}, NaN]"#).unwrap();
        assert_eq!(
            items,
            [r#"[1, -Infinity]"#, r#""a]""#, r#"{"k": [2]}"#, "NaN"]
        );
        assert!(array_items("[]").unwrap().is_empty());
        assert!(array_items("[1, 2").is_err());
        assert_eq!(
            lenient_value(items[0]).unwrap(),
            serde_json::json!([1, "-Infinity"])
        );
        assert_eq!(
            lenient_value(r#"["NaN in a string", NaN]"#).unwrap(),
            serde_json::json!(["NaN in a string", "NaN"])
        );
    }

    #[test]
    fn empty_object() {
        assert!(object_fields("{}").unwrap().is_empty());
        assert!(object_fields("  { }  ").unwrap().is_empty());
    }
}
