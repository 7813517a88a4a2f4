//! The `--set` values of an install, by the settings file each goes to: read
//! in one pass, so an install of many instances does not filter every
//! setting once per instance.

use std::collections::HashMap;

use super::install::Setting;

/// The settings for every instance and those for one, each with its place
/// on the command line.
pub struct SetsByInstance<'a> {
    every: Vec<(usize, &'a Setting)>,
    own: HashMap<&'a str, Vec<(usize, &'a Setting)>>,
}

impl<'a> SetsByInstance<'a> {
    pub fn new(sets: &'a [Setting]) -> Self {
        let mut every = Vec::new();
        let mut own: HashMap<&str, Vec<_>> = HashMap::new();
        for (at, s) in sets.iter().enumerate() {
            match &s.instance {
                Some(i) => own.entry(i.as_str()).or_default().push((at, s)),
                None => every.push((at, s)),
            }
        }
        SetsByInstance { every, own }
    }

    /// What applies to `instance`'s settings file (`None`: the service's), in
    /// the order given: a later value for a key wins, whichever kind it is.
    pub fn get(&self, instance: Option<&str>) -> Vec<&'a Setting> {
        let own = instance.and_then(|i| self.own.get(i)).map_or(&[][..], Vec::as_slice);
        let (mut a, mut b) = (self.every.iter().peekable(), own.iter().peekable());
        let mut out = Vec::with_capacity(self.every.len() + own.len());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) if x.0 < y.0 => a.next(),
                (Some(_) | None, Some(_)) => b.next(),
                (Some(_), None) => a.next(),
                (None, None) => return out,
            };
            out.extend(next.map(|(_, s)| *s));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SetsByInstance;
    use crate::host::install::Setting;

    #[test]
    fn each_instance_gets_its_own_and_every_instances_values_in_order() {
        let sets: Vec<Setting> = ["port=1", "a:port=2", "b:memory=3", "memory=4", "a:memory=5"]
            .iter()
            .filter_map(|s| Setting::parse(s))
            .collect();
        let by = SetsByInstance::new(&sets);
        let text = |i| by.get(i).iter().map(|s| format!("{}={}", s.key, s.value)).collect::<Vec<_>>().join(" ");
        assert_eq!(text(Some("a")), "port=1 port=2 memory=4 memory=5");
        assert_eq!(text(Some("b")), "port=1 memory=3 memory=4");
        assert_eq!(text(Some("c")), "port=1 memory=4");
        assert_eq!(text(None), "port=1 memory=4");
        // The same as filtering the whole list for each file.
        for i in [Some("a"), Some("b"), Some("c"), None] {
            let filtered: Vec<&Setting> =
                sets.iter().filter(|s| s.instance.is_none() || s.instance.as_deref() == i).collect();
            assert_eq!(by.get(i), filtered);
        }
    }
}
