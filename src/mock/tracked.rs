//! What changed, without diffing: a [`Tracked`] value gets a new revision whenever code takes
//! it mutably (every change goes through `DerefMut`), and [`Members`] (the store's
//! collections) notes, while an answer is being made, which collections it read. An answer
//! cached with the revisions of what it read stays valid until one of them changes, so a
//! write to one guest leaves answers about other collections cached, and a list made of
//! records can reuse the part of each record that did not change.
//!
//! Revisions come from one process-wide counter, so a revision names one content for the
//! process's life: a clone carries its original's revision (same content), a value read
//! from a file or made fresh gets a new one.

use std::cell::RefCell;
use std::collections::btree_map::{self, BTreeMap};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::store::Record;

static REVISION: AtomicU64 = AtomicU64::new(1);

/// A revision never handed out before.
fn fresh() -> u64 {
    REVISION.fetch_add(1, Ordering::Relaxed)
}

/// A value and the revision of its content.
#[derive(Debug)]
pub struct Tracked<T> {
    revision: u64,
    value: T,
}

impl<T> Tracked<T> {
    /// `value` under a revision of its own.
    pub fn new(value: T) -> Tracked<T> {
        Tracked {
            revision: fresh(),
            value,
        }
    }

    /// Changes whenever the value may have changed.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The value, untracked from here on.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T> Deref for Tracked<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Tracked<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.revision = fresh();
        &mut self.value
    }
}

impl<T: Clone> Clone for Tracked<T> {
    fn clone(&self) -> Self {
        Tracked {
            revision: self.revision,
            value: self.value.clone(),
        }
    }
}

impl<T: Default> Default for Tracked<T> {
    fn default() -> Self {
        Tracked::new(T::default())
    }
}

impl<T: PartialEq> PartialEq for Tracked<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T> From<T> for Tracked<T> {
    fn from(value: T) -> Self {
        Tracked::new(value)
    }
}

// `iter()` and `iter_mut()` are the value's own, through `Deref`.
#[allow(clippy::into_iter_without_iter)]
impl<'a, T> IntoIterator for &'a Tracked<T>
where
    &'a T: IntoIterator,
{
    type Item = <&'a T as IntoIterator>::Item;
    type IntoIter = <&'a T as IntoIterator>::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        self.value.into_iter()
    }
}

#[allow(clippy::into_iter_without_iter)]
impl<'a, T> IntoIterator for &'a mut Tracked<T>
where
    &'a mut T: IntoIterator,
{
    type Item = <&'a mut T as IntoIterator>::Item;
    type IntoIter = <&'a mut T as IntoIterator>::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        (**self).into_iter()
    }
}

impl<T: Serialize> Serialize for Tracked<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Tracked<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Tracked::new)
    }
}

/// One collection's members by id.
pub type Collection = Tracked<BTreeMap<String, Tracked<Record>>>;

/// The store's collections by path (`nodes/pve1/qemu`). Reads through it are noted while
/// [`recording`] runs.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct Members(BTreeMap<String, Collection>);

impl Serialize for Members {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        note(Read::All);
        self.0.serialize(s)
    }
}

impl Members {
    /// The collection at `path`.
    pub fn get(&self, path: &str) -> Option<&Collection> {
        note(Read::One(path));
        self.0.get(path)
    }

    /// Whether there is a collection at `path`.
    pub fn contains_key(&self, path: &str) -> bool {
        self.get(path).is_some()
    }

    /// The paths of every collection (the answer depends on all of them).
    pub fn keys(&self) -> btree_map::Keys<'_, String, Collection> {
        note(Read::All);
        self.0.keys()
    }

    /// Every collection (the answer depends on all of them).
    pub fn iter(&self) -> btree_map::Iter<'_, String, Collection> {
        note(Read::All);
        self.0.iter()
    }

    /// Every collection, to change.
    pub fn iter_mut(&mut self) -> btree_map::IterMut<'_, String, Collection> {
        self.0.iter_mut()
    }

    /// The collection at `path`, to change.
    pub fn get_mut(&mut self, path: &str) -> Option<&mut Collection> {
        self.0.get_mut(path)
    }

    /// The collection at `path`, made if missing.
    pub fn entry(&mut self, path: String) -> btree_map::Entry<'_, String, Collection> {
        self.0.entry(path)
    }

    /// Removes the collection at `path`.
    pub fn remove(&mut self, path: &str) -> Option<Collection> {
        self.0.remove(path)
    }

    /// Keeps the collections `keep` says yes to.
    pub fn retain(&mut self, keep: impl FnMut(&String, &mut Collection) -> bool) {
        self.0.retain(keep);
    }

    /// The revision of the collection at `path` (`None`: there is none), not noted as read.
    pub fn revision_of(&self, path: &str) -> Option<u64> {
        self.0.get(path).map(Tracked::revision)
    }
}

impl std::ops::Index<&str> for Members {
    type Output = Collection;
    fn index(&self, path: &str) -> &Collection {
        note(Read::One(path));
        &self.0[path]
    }
}

impl std::ops::Index<&String> for Members {
    type Output = Collection;
    fn index(&self, path: &String) -> &Collection {
        &self[path.as_str()]
    }
}

impl<'a> IntoIterator for &'a mut Members {
    type Item = (&'a String, &'a mut Collection);
    type IntoIter = btree_map::IterMut<'a, String, Collection>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<'a> IntoIterator for &'a Members {
    type Item = (&'a String, &'a Collection);
    type IntoIter = btree_map::Iter<'a, String, Collection>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// What an answer read of the store, noted by [`recording`].
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Reads {
    /// Collections read by path (sorted, each once).
    pub collections: Vec<String>,
    /// Whether it went over every collection.
    pub all: bool,
    /// The clock's first reading, if it read the clock (the answer may change with time
    /// alone).
    pub clock: Option<u64>,
}

enum Read<'a> {
    One(&'a str),
    All,
    Clock(u64),
}

thread_local! {
    static READS: RefCell<Option<Reads>> = const { RefCell::new(None) };
}

fn note(read: Read<'_>) {
    READS.with(|r| {
        if let Some(reads) = r.borrow_mut().as_mut() {
            match read {
                Read::One(path) => {
                    if !reads.collections.iter().any(|c| c == path) {
                        reads.collections.push(path.to_string());
                    }
                }
                Read::All => reads.all = true,
                Read::Clock(now) => {
                    reads.clock.get_or_insert(now);
                }
            }
        }
    });
}

/// Notes that the clock was read and what it said (epoch seconds).
pub fn note_clock(now: u64) {
    note(Read::Clock(now));
}

/// Runs `f` and says what it read of the store on this thread (nested recordings are
/// merged into the outer one).
pub fn recording<T>(f: impl FnOnce() -> T) -> (T, Reads) {
    let outer = Outer(READS.with(|r| r.borrow_mut().replace(Reads::default())));
    let out = f();
    (out, outer.finish())
}

/// The recording a nested one interrupted, put back when the nested one ends (also by
/// unwinding, so that a later recording starts clean).
struct Outer(Option<Reads>);

impl Outer {
    /// What the nested recording read (also merged into the outer one).
    fn finish(mut self) -> Reads {
        let mut reads = READS.with(|r| r.borrow_mut().take()).unwrap_or_default();
        reads.collections.sort_unstable();
        if let Some(outer) = self.0.as_mut() {
            outer.all |= reads.all;
            if outer.clock.is_none() {
                outer.clock = reads.clock;
            }
            for c in &reads.collections {
                if !outer.collections.contains(c) {
                    outer.collections.push(c.clone());
                }
            }
        }
        reads
    }
}

impl Drop for Outer {
    fn drop(&mut self) {
        let outer = self.0.take();
        READS.with(|r| *r.borrow_mut() = outer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mutable_borrow_is_a_new_revision_and_a_shared_one_is_not() {
        let mut t = Tracked::new(vec![1]);
        let r0 = t.revision();
        assert_eq!(t.len(), 1);
        assert_eq!(t.revision(), r0);
        t.push(2);
        let r1 = t.revision();
        assert_ne!(r1, r0);
        let copy = t.clone();
        assert_eq!(copy.revision(), r1, "a clone holds the same content");
        let back: Tracked<Vec<i32>> = serde_json::from_str("[1,2]").unwrap();
        assert_ne!(back.revision(), r1, "read from text: a revision of its own");
        assert_eq!(back, t);
    }

    #[test]
    fn recording_notes_collections_read_and_merges_nested_recordings() {
        let mut m = Members::default();
        m.entry("a".into()).or_default();
        m.entry("b".into()).or_default();
        let ((), outer) = recording(|| {
            let _ = m.get("b");
            let ((), inner) = recording(|| {
                let _ = m.get("a");
                note_clock(7);
                note_clock(8);
            });
            assert_eq!(inner.collections, vec!["a".to_string()]);
            assert_eq!(inner.clock, Some(7));
        });
        assert_eq!(outer.collections, vec!["a".to_string(), "b".to_string()]);
        assert_eq!(outer.clock, Some(7));
        assert!(!outer.all);
        let ((), all) = recording(|| for _ in &m {});
        assert!(all.all);
        // Outside a recording nothing is kept.
        let _ = m.get("a");
        let ((), none) = recording(|| ());
        assert_eq!(none, Reads::default());
    }

    #[test]
    fn a_change_inside_a_collection_changes_its_revision_only() {
        let mut m = Members::default();
        m.entry("a".into())
            .or_default()
            .insert("1".into(), Record::default().into());
        m.entry("b".into()).or_default();
        let (a0, b0) = (m.revision_of("a"), m.revision_of("b"));
        let rec = m.get_mut("a").unwrap().get_mut("1").unwrap();
        let r0 = rec.revision();
        rec.config.insert("name".into(), "x".into());
        assert_ne!(rec.revision(), r0);
        assert_ne!(m.revision_of("a"), a0);
        assert_eq!(m.revision_of("b"), b0);
        m.remove("b");
        assert_eq!(m.revision_of("b"), None);
    }
}
