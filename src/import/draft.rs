//! The recipe an import writes, built as a TOML document so that every value
//! goes through TOML's own string escaping; literal braces are doubled.

use toml_edit::{Array, ArrayOfTables, DocumentMut, Item, Table, Value};

/// A value of a source that lands in a recipe template: braces doubled, so
/// nothing the source says becomes a placeholder.
pub fn lit(text: &str) -> String {
    text.replace('{', "{{").replace('}', "}}")
}

#[derive(Debug, Clone, Default)]
pub struct Draft {
    doc: DocumentMut,
}

impl Draft {
    pub fn new(name: &str, summary: &str) -> Draft {
        let mut d = Draft::default();
        d.set(&[], "name", name);
        d.set(&[], "summary", summary);
        d
    }

    fn table(&mut self, path: &[&str]) -> &mut Table {
        let mut t = self.doc.as_table_mut();
        for key in path {
            let item = t.entry(key).or_insert_with(|| {
                let mut table = Table::new();
                table.set_implicit(true);
                Item::Table(table)
            });
            t = item.as_table_mut().expect("a table: import writes each key one way");
        }
        t
    }

    /// The item at `path.key`, if the draft has one.
    fn get(&self, path: &[&str], key: &str) -> Option<&Item> {
        let mut t = self.doc.as_table();
        for k in path {
            t = t.get(k).and_then(Item::as_table)?;
        }
        t.get(key)
    }

    pub fn has(&self, path: &[&str], key: &str) -> bool {
        self.get(path, key).is_some()
    }

    /// A string the draft holds, as written (braces doubled).
    pub fn get_str(&self, path: &[&str], key: &str) -> Option<String> {
        self.get(path, key).and_then(Item::as_str).map(str::to_owned)
    }

    /// A list the draft holds, as written.
    pub fn get_list(&self, path: &[&str], key: &str) -> Option<Vec<String>> {
        let array = self.get(path, key).and_then(Item::as_array)?;
        Some(array.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
    }

    pub fn set(&mut self, path: &[&str], key: &str, value: impl Into<Value>) {
        self.table(path).insert(key, Item::Value(value.into()));
    }

    pub fn set_list<S: AsRef<str>>(&mut self, path: &[&str], key: &str, values: &[S]) {
        let array: Array = values.iter().map(|v| v.as_ref().to_owned()).collect();
        self.set(path, key, array);
    }

    pub fn set_numbers(&mut self, path: &[&str], key: &str, values: &[i64]) {
        let array: Array = values.iter().copied().collect();
        self.set(path, key, array);
    }

    /// Appends to a list of strings, making it when it is not there.
    pub fn push(&mut self, path: &[&str], key: &str, value: &str) {
        let t = self.table(path);
        let item = t.entry(key).or_insert_with(|| Item::Value(Value::Array(Array::new())));
        if let Some(a) = item.as_array_mut()
            && !a.iter().any(|v| v.as_str() == Some(value))
        {
            a.push(value);
        }
    }

    /// Appends a table to an array of tables (`[[stop.after]]`).
    pub fn push_table(&mut self, path: &[&str], key: &str, entries: Vec<(&str, Value)>) {
        let t = self.table(path);
        let item = t.entry(key).or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()));
        if let Some(a) = item.as_array_of_tables_mut() {
            let mut row = Table::new();
            for (k, v) in entries {
                row.insert(k, Item::Value(v));
            }
            a.push(row);
        }
    }

    /// A start or stop step (`[[start.before]]`…): what it runs, within
    /// `timeout`; `optional` where the step has that key.
    pub fn push_step(
        &mut self,
        table: &str,
        list: &str,
        description: String,
        run: &[String],
        timeout: &str,
        optional: Option<bool>,
    ) {
        let mut entries =
            vec![("description", Value::from(description)), ("run", strings(run)), ("timeout", Value::from(timeout))];
        if let Some(optional) = optional {
            entries.push(("optional", Value::from(optional)));
        }
        self.push_table(&[table], list, entries);
    }

    /// Sets `key` in every table of the array `path.list` (each `[[start.before]]`…).
    pub fn set_in_rows(&mut self, path: &[&str], list: &str, key: &str, value: &str) {
        if !self.has(path, list) {
            return;
        }
        if let Some(rows) = self.table(path).get_mut(list).and_then(Item::as_array_of_tables_mut) {
            for row in rows.iter_mut() {
                row.insert(key, Item::Value(value.into()));
            }
        }
    }

    pub fn remove(&mut self, path: &[&str], key: &str) {
        self.table(path).remove(key);
    }

    /// The recipe text, led by a comment saying where it came from.
    pub fn text(&self, header: &str) -> String {
        let mut s = String::new();
        for line in header.lines() {
            s.push_str("# ");
            s.push_str(&line.replace(['\r', '\n'], " "));
            s.push('\n');
        }
        s.push_str(&self.doc.to_string());
        s
    }
}

pub fn strings<S: AsRef<str>>(values: &[S]) -> Value {
    Value::Array(values.iter().map(|v| v.as_ref().to_owned()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_stays_a_toml_string() {
        let mut d = Draft::new("x", "a \"quoted\"\nsummary = \"evil\"\n[run]");
        d.set_list(&["run"], "command", &["/bin/x", "]\"\n[stop]"]);
        let text = d.text("from t.service\n[evil]");
        let parsed: toml_edit::DocumentMut = text.parse().expect("valid TOML");
        assert_eq!(parsed["summary"].as_str(), Some("a \"quoted\"\nsummary = \"evil\"\n[run]"));
        assert!(parsed.get("stop").is_none() && parsed.get("evil").is_none());
        assert_eq!(lit("{a}}"), "{{a}}}}");
    }
}
