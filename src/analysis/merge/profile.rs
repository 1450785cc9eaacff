//! A profile accumulated from many inputs (runs of one build), unit by unit:
//! what `xencov-rs merge`, `lcov` and `report` do before anything else.
//!
//! The caller reads the inputs and hands over each one's gcda images with
//! their recorded paths ([`Incoming`]); the profile matches them with its
//! units by path, adds them (from the bytes when they line up, see
//! [`fast`](super::fast), else decoded and merged by [`merge_unit`]), and
//! returns what it met as typed values: the conflicts resolved, the values
//! saturated, the inputs that match nothing. Inputs are named by their index
//! in the order they were added; the caller names them for its messages.
//!
//! Adding an input has three steps so that the caller may run the middle
//! one in parallel (the library spawns no threads): [`Profile::batch`]
//! matches the input's units, [`Profile::steps`] hands out one independent
//! [`Step`] per unit, and [`Profile::finish`] takes their results back in.
//!
//! The file stays whole (about 950 lines, half of them the documented
//! types of what a merge meets): the three steps share the batch's private
//! state, and the types are only meaningful beside them.

use super::fast::{Fast, Image, Layout, add_with_layout};
use super::{Conflict, ConflictKind, OnConflict, Outcome, Overflow, Resolution, merge_unit, scale};
use crate::error::Error;
use crate::gcov::gcda::{Gcda, Record};
use crate::gcov::record::Header;
use crate::paths::PathMapping;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One gcda image of an input, with its paths.
///
/// The paths are shared (`Arc`): a merge of many runs of one build meets
/// the same units input after input, and [`Incoming::again`] gives the
/// next input's unit the paths of the last one's without working them out
/// or allocating again (three paths a unit, 400 units an input: a tenth of
/// a merge's instructions went into making and dropping them).
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    /// The path as recorded, after the path mapping (a dump records it).
    pub path: Arc<[u8]>,
    /// The object path it stands for: a `-fprofile-dir` name unmangled, then
    /// the mapping applied. Units are matched, and notes found, by it.
    pub lookup: Arc<[u8]>,
    /// The object path before the mapping (for hints about a mapping that works).
    pub source: Arc<[u8]>,
    /// The gcda image.
    pub bytes: &'a [u8],
}

impl<'a> Incoming<'a> {
    /// The unit recorded at `recorded` (a dump's path, or a file's path
    /// within its tree), its paths mapped by `mapping`.
    pub fn new(recorded: &[u8], bytes: &'a [u8], mapping: &PathMapping) -> Incoming<'a> {
        let source =
            crate::paths::unmangle_profile_name(recorded).unwrap_or_else(|| recorded.to_vec());
        Incoming {
            path: mapping.rewrite(recorded).0.into(),
            lookup: mapping.rewrite(&source).0.into(),
            source: source.into(),
            bytes,
        }
    }

    /// A unit recorded at the same path, under the same mapping, with the
    /// gcda image `bytes`: what [`Incoming::new`] gives for it, the paths
    /// shared with this one.
    pub fn again<'b>(&self, bytes: &'b [u8]) -> Incoming<'b> {
        Incoming {
            path: Arc::clone(&self.path),
            lookup: Arc::clone(&self.lookup),
            source: Arc::clone(&self.source),
            bytes,
        }
    }
}

/// A unit of the profile.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The unit's path as first seen (after the mapping): a dump records it.
    pub path: Arc<[u8]>,
    /// See [`Incoming::lookup`].
    pub lookup: Arc<[u8]>,
    /// See [`Incoming::source`].
    pub source: Arc<[u8]>,
    /// The merged counters.
    counts: Counts,
    /// The inputs (by index) whose counts it holds, in the order added, as
    /// runs of consecutive inputs (one run for a unit of every input).
    origins: Vec<std::ops::Range<usize>>,
}

/// A unit's merged counters: the decoded model, or, while every input
/// took the fast road, the image of the first with the others' counts
/// added in it (a fraction of the model's memory).
#[derive(Debug, Clone)]
enum Counts {
    Model(Gcda),
    /// Boxed: the unit list stays small (a unit is 168 bytes, not 256).
    Image(Box<Image>),
}

impl Unit {
    /// The inputs (by index) whose counts it holds, in the order added; a
    /// unit replaced by a later input's (another build, another compiler)
    /// starts again from that input.
    pub fn origins(&self) -> Vec<usize> {
        self.origins.iter().cloned().flatten().collect()
    }

    fn add_origin(&mut self, input: usize) {
        match self.origins.last_mut() {
            Some(run) if run.end == input => run.end += 1,
            _ => self.origins.push(input..input + 1),
        }
    }

    /// The merged counters, decoded from the unit's image when it is kept
    /// as one (an error only if the image no longer decodes, which adding
    /// counts in place cannot cause).
    pub fn gcda(&self) -> Result<Cow<'_, Gcda>, Error> {
        match &self.counts {
            Counts::Model(g) => Ok(Cow::Borrowed(g)),
            Counts::Image(i) => i.decode().map(Cow::Owned),
        }
    }

    /// The merged counters encoded ([`Gcda::encode`] of [`Unit::gcda`]):
    /// an image as it is, without decoding it.
    pub fn encoded(&self) -> Cow<'_, [u8]> {
        match &self.counts {
            Counts::Model(g) => Cow::Owned(g.encode()),
            Counts::Image(i) => Cow::Borrowed(i.bytes()),
        }
    }

    /// The merged counters' header (without decoding an image).
    pub fn header(&self) -> Header {
        match &self.counts {
            Counts::Model(g) => g.header,
            Counts::Image(i) => i.header(),
        }
    }

    /// The merged counters as the model, an image decoded into it first.
    fn model(&mut self) -> Result<&mut Gcda, Error> {
        if let Counts::Image(i) = &self.counts {
            self.counts = Counts::Model(i.decode()?);
        }
        match &mut self.counts {
            Counts::Model(g) => Ok(g),
            // Cannot happen: an image was replaced just above.
            Counts::Image(_) => Err(Error::new(
                0,
                crate::error::ErrorKind::Truncated {
                    what: "a unit's image",
                    needed: 0,
                    available: 0,
                },
            )),
        }
    }
}

/// The origins of a unit that starts from `input`.
#[allow(clippy::single_range_in_vec_init)] // one run of one input, not the input numbers
fn first_run(input: usize) -> Vec<std::ops::Range<usize>> {
    vec![input..input + 1]
}

/// Units match by path made of its normal components, so `/main.gcda` (a
/// dump path mapped to the root) and `main.gcda` (a tree) are one unit.
pub fn match_key(path: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(path.len());
    for c in path
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
    {
        if !key.is_empty() {
            key.push(b'/');
        }
        key.extend_from_slice(c);
    }
    key
}

/// Why an input could not be added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// Two units of one input have one match key.
    #[error("two units map to {}", String::from_utf8_lossy(lookup))]
    TwoUnits {
        /// The input.
        input: usize,
        /// The second unit's lookup path.
        lookup: Vec<u8>,
    },
    /// A unit's gcda image does not decode.
    #[error("{}: {error}", String::from_utf8_lossy(lookup))]
    Decode {
        /// The input.
        input: usize,
        /// The unit's lookup path.
        lookup: Vec<u8>,
        /// What is wrong with it (boxed: the error carries offsets and
        /// values, and every step's `Result` would otherwise be its size).
        #[source]
        error: Box<Error>,
    },
    /// A unit does not line up with the profile's and [`OnConflict::Error`]
    /// refused it.
    #[error("{}: {kind}", String::from_utf8_lossy(unit))]
    Refused {
        /// The input.
        input: usize,
        /// The unit's match key.
        unit: Vec<u8>,
        /// The inputs the profile's unit came from.
        earlier: Vec<usize>,
        /// What did not line up.
        kind: ConflictKind,
    },
    /// An input of [`Profile::batch_after`] whose units are not the ones
    /// added while it was read (it changed in between).
    #[error("its units changed while it was read")]
    Changed {
        /// The input.
        input: usize,
    },
}

/// Something about one input that the caller should hear about (a warning).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputWarning {
    /// The input holds no unit at all.
    Empty,
    /// No unit of the input matches a unit of the inputs before it, so
    /// nothing is summed: the profile holds both sets side by side.
    Disjoint {
        /// A pair of units of one file name that did not match, when there is one.
        pair: Option<DisjointPair>,
    },
}

/// Two units of one file name, an earlier one and one of this input, whose
/// paths do not line up (a dump records absolute build paths, a tree
/// relative ones: `/build/calc/main.gcda` and `main.gcda`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisjointPair {
    /// The earlier unit's lookup path.
    pub earlier: Vec<u8>,
    /// The inputs it came from.
    pub earlier_origins: Vec<usize>,
    /// This input's unit's lookup path.
    pub this: Vec<u8>,
    /// A `--prefix-map OLD=NEW` that lines them up, and whose paths it maps.
    pub hint: Option<(Vec<u8>, Vec<u8>, Side)>,
}

/// Which side's paths a suggested prefix map rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The earlier inputs' paths.
    Earlier,
    /// This input's paths.
    This,
}

/// A conflict met and resolved under [`OnConflict::Skip`] or
/// [`OnConflict::KeepNewest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The input that brought it.
    pub input: usize,
    /// The unit's match key.
    pub unit: Vec<u8>,
    /// The inputs the profile's unit came from before.
    pub earlier: Vec<usize>,
    /// The conflict and what was done.
    pub conflict: Conflict,
}

/// What made a count saturate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Scaling an input's counts by its weight.
    Weight {
        /// The input.
        input: usize,
        /// Its weight.
        weight: u64,
    },
    /// Adding an input to the profile.
    Adding {
        /// The input.
        input: usize,
    },
}

/// Values of one counter section saturated at [`super::MAX_COUNT`] instead
/// of wrapping as libgcov and gcov-tool do (formats/merge.md §14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saturation {
    /// The unit: its lookup path (a weight) or match key (a merge).
    pub unit: Vec<u8>,
    /// The function ident; `None` for the object summary.
    pub function: Option<u32>,
    /// The counter kind, or `summary`.
    pub kind: &'static str,
    /// The most values saturated in one step.
    pub values: usize,
    /// The steps that did it, each once, in order.
    pub causes: Vec<Cause>,
}

/// Something about the whole profile (a warning).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileWarning<'p> {
    /// The units come from different compilers: units per gcov version
    /// (as `Version::chars` names it).
    MixedVersions(BTreeMap<String, usize>),
    /// Counts saturated on the way, by section in the order first met.
    Saturated(&'p [Saturation]),
}

/// The units of many inputs, merged.
#[derive(Debug, Default)]
pub struct Profile {
    units: Vec<Unit>,
    /// Per unit, what the fast road knows of its inputs' layout
    /// ([`add_with_layout`]); dropped whenever the general road changes it.
    layouts: Vec<Option<Layout>>,
    last: LastMatch,
    index: HashMap<Vec<u8>, usize>,
    inputs: usize,
    saturated: Vec<Saturation>,
    sections: HashMap<(Vec<u8>, Option<u32>, &'static str), usize>,
}

/// An input matched with the profile, ready to be added.
#[derive(Debug)]
pub struct Batch<'a> {
    input: usize,
    weight: u64,
    units: Vec<Incoming<'a>>,
    keys: Arc<Vec<Vec<u8>>>,
    /// The profile's unit each incoming unit matches.
    slots: Vec<Option<usize>>,
    /// Per incoming unit, whether it was added already (see [`Added`]);
    /// empty when none was.
    added: Vec<bool>,
}

/// The units of an input that repeats the last one's, as far as they were
/// added to their images (see [`Profile::repeat`]): what is left of the
/// input goes through [`Profile::batch_after`].
#[derive(Debug)]
#[must_use]
pub struct Added {
    /// Per unit of the input, the profile's unit it was added to.
    slots: Vec<Option<usize>>,
}

/// The last input's units as [`Profile::batch`] matched them: runs of one
/// build (a hypervisor's dumps above all) list the same units in the same
/// order, so the next input's are compared with these (one comparison of
/// bytes per unit) instead of being keyed, checked for twins and looked up
/// again.
#[derive(Debug, Default)]
struct LastMatch {
    lookups: Vec<Arc<[u8]>>,
    keys: Arc<Vec<Vec<u8>>>,
    slots: Vec<Option<usize>>,
    /// How many units the profile had when `slots` were looked up: a new
    /// unit since may be the match of a key that had none.
    profile_units: usize,
}

impl Batch<'_> {
    /// The input's index.
    pub fn input(&self) -> usize {
        self.input
    }
}

/// The work for one unit of a [`Batch`]: independent of every other step.
#[derive(Debug)]
pub struct Step<'p, 'b, 'a> {
    unit: Option<(&'p mut Unit, &'p mut Option<Layout>)>,
    incoming: &'b Incoming<'a>,
    at: usize,
    input: usize,
    weight: u64,
    policy: OnConflict,
    /// Added already (see [`Added`]): nothing to do.
    added: bool,
}

/// What a [`Step`] did, for [`Profile::finish`].
#[derive(Debug)]
pub struct Done {
    at: usize,
    result: Result<StepResult, ProfileError>,
}

#[derive(Debug)]
enum StepResult {
    /// A new unit, decoded and scaled, with the values the weight saturated.
    New(Counts, Vec<Overflow>),
    /// Merged into the profile's unit (the weight's saturations first).
    Merged {
        scaled: Vec<Overflow>,
        outcome: Outcome,
    },
}

impl Step<'_, '_, '_> {
    /// Adds the unit: in place from its bytes when it lines up with the
    /// profile's (weight 1), else decoded, scaled and merged.
    pub fn run(self) -> Done {
        let at = self.at;
        Done {
            at,
            result: self.work(),
        }
    }

    fn work(self) -> Result<StepResult, ProfileError> {
        let Step {
            unit,
            incoming,
            input,
            weight,
            policy,
            added,
            ..
        } = self;
        if added {
            return Ok(StepResult::Merged {
                scaled: Vec::new(),
                outcome: Outcome {
                    conflicts: Vec::new(),
                    overflows: Vec::new(),
                },
            });
        }
        match unit {
            Some((m, layout)) => {
                if weight == 1
                    && let Counts::Image(image) = &mut m.counts
                    && let Fast::Merged(overflows) = image.add(incoming.bytes)
                {
                    return Ok(StepResult::Merged {
                        scaled: Vec::new(),
                        outcome: Outcome {
                            conflicts: Vec::new(),
                            overflows,
                        },
                    });
                }
                // An input of another framing: the unit becomes the model
                // and the input takes the roads below, as it would have.
                let gcda = m.model().map_err(|error| ProfileError::Decode {
                    input,
                    lookup: incoming.lookup.to_vec(),
                    error: Box::new(error),
                })?;
                if weight == 1
                    && let Fast::Merged(overflows) = add_with_layout(gcda, layout, incoming.bytes)
                {
                    return Ok(StepResult::Merged {
                        scaled: Vec::new(),
                        outcome: Outcome {
                            conflicts: Vec::new(),
                            overflows,
                        },
                    });
                }
                // The general road may change the unit's functions.
                *layout = None;
                let (g, scaled) = decode(incoming, input, weight)?;
                let outcome =
                    merge_unit(gcda, &g, policy).map_err(|kind| ProfileError::Refused {
                        input,
                        unit: match_key(&incoming.lookup),
                        earlier: m.origins(),
                        kind,
                    })?;
                Ok(StepResult::Merged { scaled, outcome })
            }
            None => {
                let (mut g, scaled) = decode(incoming, input, weight)?;
                if weight == 1
                    && let Some(image) = Image::new(&g, incoming.bytes)
                {
                    return Ok(StepResult::New(Counts::Image(Box::new(image)), scaled));
                }
                compact(&mut g);
                Ok(StepResult::New(Counts::Model(g), scaled))
            }
        }
    }
}

/// Gives back the room the decoder's growing vectors left over in a unit
/// that stays in the profile for the whole merge: a function's list of
/// counter sections grows to four slots for the one section most have,
/// which for 12,000 functions is more than their counters take.
fn compact(g: &mut Gcda) {
    g.records.shrink_to_fit();
    for r in &mut g.records {
        if let Record::Function(f) = r {
            f.counters.shrink_to_fit();
        }
    }
}

/// A unit decoded and scaled by its input's weight, with the values the
/// weight took past the largest count (saturated).
fn decode(
    u: &Incoming<'_>,
    input: usize,
    weight: u64,
) -> Result<(Gcda, Vec<Overflow>), ProfileError> {
    let mut g = Gcda::decode(u.bytes).map_err(|error| ProfileError::Decode {
        input,
        lookup: u.lookup.to_vec(),
        error: Box::new(error),
    })?;
    let scaled = scale(&mut g, weight);
    Ok((g, scaled))
}

impl Profile {
    /// An empty profile.
    pub fn new() -> Profile {
        Profile::default()
    }

    /// The units, in the order first seen.
    pub fn units(&self) -> &[Unit] {
        &self.units
    }

    /// The units, taken out.
    pub fn into_units(self) -> Vec<Unit> {
        self.units
    }

    /// How many units.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// Whether there is no unit.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// Matches the next input's units (of weight `weight`) with the
    /// profile's; says when the input holds nothing or matches nothing.
    pub fn batch<'a>(
        &mut self,
        weight: u64,
        units: Vec<Incoming<'a>>,
    ) -> Result<(Batch<'a>, Option<InputWarning>), ProfileError> {
        let input = self.inputs;
        self.inputs += 1;
        let last = &self.last;
        let same = last.lookups.len() == units.len()
            && last.lookups.iter().zip(&units).all(|(l, u)| *l == u.lookup);
        let (keys, slots) = if same {
            // The same units as the input before: the same keys, no twins.
            let slots = if last.profile_units == self.units.len() {
                last.slots.clone()
            } else {
                self.slots(&last.keys)
            };
            (Arc::clone(&last.keys), slots)
        } else {
            let keys: Vec<Vec<u8>> = units.iter().map(|u| match_key(&u.lookup)).collect();
            let mut seen: std::collections::HashSet<&[u8]> = Default::default();
            seen.reserve(keys.len());
            for (u, key) in units.iter().zip(&keys) {
                if !seen.insert(key) {
                    return Err(ProfileError::TwoUnits {
                        input,
                        lookup: u.lookup.to_vec(),
                    });
                }
            }
            drop(seen);
            let slots = self.slots(&keys);
            (Arc::new(keys), slots)
        };
        if !same {
            self.last.lookups = units.iter().map(|u| u.lookup.clone()).collect();
        }
        self.last.keys = Arc::clone(&keys);
        self.last.slots.clone_from(&slots);
        self.last.profile_units = self.units.len();
        let warning = if units.is_empty() {
            Some(InputWarning::Empty)
        } else if !self.units.is_empty() && slots.iter().all(Option::is_none) {
            Some(InputWarning::Disjoint {
                pair: self.disjoint_pair(&units),
            })
        } else {
            None
        };
        Ok((
            Batch {
                input,
                weight,
                units,
                keys,
                slots,
                added: Vec::new(),
            },
            warning,
        ))
    }

    /// The images of the units the last input matched, in its order, when
    /// they all are kept as images: an input that repeats the last one's
    /// units (a hypervisor's next dump) can be added to them unit by unit
    /// with [`Image::add_exact`] while the rest of it is still being read,
    /// the caller checking that it is that (its units at the same places,
    /// of the same paths). Then [`Profile::repeated`] says which were added.
    /// `None` when there was no last input or one of its units is new to
    /// the profile, or held as the model.
    pub fn repeat(&mut self) -> Option<Vec<&mut Image>> {
        if self.last.profile_units != self.units.len() {
            // New units since (the last input's own): its slots again.
            self.last.slots = self.slots(&self.last.keys);
            self.last.profile_units = self.units.len();
        }
        if self.last.slots.is_empty() {
            return None;
        }
        let mut by_slot: Vec<Option<&mut Image>> = self
            .units
            .iter_mut()
            .map(|u| match &mut u.counts {
                Counts::Image(i) => Some(&mut **i),
                Counts::Model(_) => None,
            })
            .collect();
        self.last
            .slots
            .iter()
            .map(|s| by_slot.get_mut((*s)?)?.take())
            .collect()
    }

    /// Takes in the input added through [`Profile::repeat`], `added` saying
    /// for each of the last input's units whether it was added. All of
    /// them: the input is done (`None`), as [`Profile::batch`] and
    /// [`Profile::finish`] would have done it. Otherwise the input is not
    /// counted yet: read it whole and give it, with the answer, to
    /// [`Profile::batch_after`], which adds the rest.
    pub fn repeated(&mut self, added: &[bool]) -> Option<Added> {
        let slots = &self.last.slots;
        if added.len() == slots.len() && added.iter().all(|&a| a) {
            let input = self.inputs;
            self.inputs += 1;
            for &s in slots.iter().flatten() {
                if let Some(u) = self.units.get_mut(s) {
                    u.add_origin(input);
                }
            }
            return None;
        }
        Some(Added {
            slots: slots
                .iter()
                .zip(added)
                .map(|(&s, &a)| s.filter(|_| a))
                .collect(),
        })
    }

    /// [`Profile::batch`] for the input that [`Profile::repeated`] left
    /// unfinished: the units it added are not added again. An error when
    /// those units are not this input's at their places.
    pub fn batch_after<'a>(
        &mut self,
        weight: u64,
        units: Vec<Incoming<'a>>,
        added: Added,
    ) -> Result<(Batch<'a>, Option<InputWarning>), ProfileError> {
        let (mut batch, warning) = self.batch(weight, units)?;
        let mut marks = vec![false; batch.slots.len()];
        for (i, s) in added.slots.iter().enumerate() {
            if let Some(s) = s {
                match (batch.slots.get(i), marks.get_mut(i)) {
                    (Some(Some(b)), Some(m)) if b == s && weight == 1 => *m = true,
                    _ => {
                        return Err(ProfileError::Changed { input: batch.input });
                    }
                }
            }
        }
        batch.added = marks;
        Ok((batch, warning))
    }

    /// The profile's unit of each key.
    fn slots(&self, keys: &[Vec<u8>]) -> Vec<Option<usize>> {
        keys.iter().map(|k| self.index.get(k).copied()).collect()
    }

    /// A unit of the profile and one of `units` of one file name, and the
    /// prefix map that would line them up.
    fn disjoint_pair(&self, units: &[Incoming<'_>]) -> Option<DisjointPair> {
        let base = |p: &[u8]| p.rsplit(|&b| b == b'/').next().map(<[u8]>::to_vec);
        let (m, u) = units.iter().find_map(|u| {
            let b = base(&u.lookup);
            self.units
                .iter()
                .find(|m| base(&m.lookup) == b)
                .map(|m| (m, u))
        })?;
        let hint = crate::paths::suggest_prefix_map(&m.source, &u.lookup)
            .map(|(old, new)| (old, new, Side::Earlier))
            .or_else(|| {
                crate::paths::suggest_prefix_map(&u.source, &m.lookup)
                    .map(|(old, new)| (old, new, Side::This))
            });
        Some(DisjointPair {
            earlier: m.lookup.to_vec(),
            earlier_origins: m.origins(),
            this: u.lookup.to_vec(),
            hint,
        })
    }

    /// One step per unit of `batch`: the profile's units it adds to, in the
    /// profile's order, then the new ones. Run them in any order, on any
    /// thread, and give every result to [`Profile::finish`].
    pub fn steps<'p, 'b, 'a>(
        &'p mut self,
        batch: &'b Batch<'a>,
        policy: OnConflict,
    ) -> Vec<Step<'p, 'b, 'a>> {
        let mut by_slot: Vec<Option<usize>> = vec![None; self.units.len()];
        for (at, slot) in batch.slots.iter().enumerate() {
            if let Some(s) = slot.and_then(|s| by_slot.get_mut(s)) {
                *s = Some(at);
            }
        }
        let step = |unit, at: usize, incoming| Step {
            unit,
            incoming,
            at,
            input: batch.input,
            weight: batch.weight,
            policy,
            added: batch.added.get(at).copied().unwrap_or(false),
        };
        let mut steps = Vec::with_capacity(batch.units.len());
        self.layouts.resize(self.units.len(), None);
        let units = self.units.iter_mut().zip(self.layouts.iter_mut());
        for (unit, at) in units.zip(by_slot) {
            if let Some(at) = at
                && let Some(incoming) = batch.units.get(at)
            {
                steps.push(step(Some(unit), at, incoming));
            }
        }
        for (at, (incoming, slot)) in batch.units.iter().zip(&batch.slots).enumerate() {
            if slot.is_none() {
                steps.push(step(None, at, incoming));
            }
        }
        steps
    }

    /// Takes the results of a batch's steps in: new units join the profile,
    /// saturations are recorded, and the conflicts resolved are returned in
    /// the profile's order. A unit that does not decode is the error before
    /// a refused conflict (the first of each).
    pub fn finish(
        &mut self,
        batch: Batch<'_>,
        done: Vec<Done>,
    ) -> Result<Vec<Resolved>, ProfileError> {
        let Batch {
            input,
            weight,
            units,
            keys,
            slots,
            ..
        } = batch;
        let mut results: Vec<Option<Result<StepResult, ProfileError>>> =
            (0..units.len()).map(|_| None).collect();
        for d in done {
            if let Some(r) = results.get_mut(d.at) {
                *r = Some(d.result);
            }
        }
        // Errors: a decode error first (in the input's order), then a refusal
        // (in the profile's order).
        let first_error = |decode: bool| {
            let mut errors: Vec<(usize, usize)> = results
                .iter()
                .enumerate()
                .filter_map(|(at, r)| match r {
                    Some(Err(ProfileError::Decode { .. })) if decode => Some((at, at)),
                    Some(Err(ProfileError::Refused { .. })) if !decode => {
                        slots.get(at).copied().flatten().map(|s| (s, at))
                    }
                    _ => None,
                })
                .collect();
            errors.sort_unstable();
            errors.first().map(|&(_, at)| at)
        };
        if let Some(at) = first_error(true).or_else(|| first_error(false))
            && let Some(Some(Err(e))) = results.get_mut(at).map(Option::take)
        {
            return Err(e);
        }
        // The weight's saturations, in the input's order.
        for (r, u) in results.iter_mut().zip(&units) {
            let scaled = match r {
                Some(Ok(StepResult::New(_, s) | StepResult::Merged { scaled: s, .. })) => s,
                _ => continue,
            };
            for o in scaled.drain(..) {
                self.saturate(&u.lookup, o, Cause::Weight { input, weight });
            }
        }
        // Merges, in the profile's order.
        let mut merged: Vec<(usize, usize)> = slots
            .iter()
            .enumerate()
            .filter_map(|(at, s)| s.map(|s| (s, at)))
            .collect();
        merged.sort_unstable();
        let mut resolved = Vec::new();
        for (slot, at) in merged {
            let Some(Some(Ok(StepResult::Merged { outcome, .. }))) =
                results.get_mut(at).map(Option::take)
            else {
                continue;
            };
            let Some(key) = keys.get(at) else { continue };
            for o in outcome.overflows {
                self.saturate(key, o, Cause::Adding { input });
            }
            let Some(unit) = self.units.get_mut(slot) else {
                continue;
            };
            let replaced = outcome.conflicts.iter().any(|c| {
                matches!(
                    c.kind,
                    ConflictKind::Stamp { .. } | ConflictKind::Version { .. }
                ) && c.resolution == Resolution::Replaced
            });
            for conflict in outcome.conflicts {
                resolved.push(Resolved {
                    input,
                    unit: key.clone(),
                    earlier: unit.origins(),
                    conflict,
                });
            }
            if replaced {
                unit.origins = first_run(input);
            } else {
                unit.add_origin(input);
            }
        }
        // New units, in the input's order (the list grown to size: it
        // stays for the whole merge).
        self.units
            .reserve_exact(slots.iter().filter(|s| s.is_none()).count());
        for ((u, key), r) in units.into_iter().zip(keys.iter()).zip(results) {
            let Some(Ok(StepResult::New(counts, _))) = r else {
                continue;
            };
            self.index.insert(key.clone(), self.units.len());
            self.units.push(Unit {
                path: Arc::clone(&u.path),
                lookup: Arc::clone(&u.lookup),
                source: Arc::clone(&u.source),
                counts,
                origins: first_run(input),
            });
        }
        Ok(resolved)
    }

    fn saturate(&mut self, unit: &[u8], o: Overflow, cause: Cause) {
        let key = (unit.to_vec(), o.function, o.kind);
        let at = *self.sections.entry(key).or_insert_with(|| {
            self.saturated.push(Saturation {
                unit: unit.to_vec(),
                function: o.function,
                kind: o.kind,
                values: 0,
                causes: Vec::new(),
            });
            self.saturated.len() - 1
        });
        if let Some(s) = self.saturated.get_mut(at) {
            s.values = s.values.max(o.values);
            if !s.causes.contains(&cause) {
                s.causes.push(cause);
            }
        }
    }

    /// What the whole profile should be told about: units of several
    /// compilers (the quiet version check of `check`), then counts that
    /// saturated.
    pub fn warnings(&self) -> Vec<ProfileWarning<'_>> {
        let mut out = Vec::new();
        let mut versions: BTreeMap<String, usize> = BTreeMap::new();
        for m in &self.units {
            *versions.entry(m.header().version.chars()).or_default() += 1;
        }
        if versions.len() > 1 {
            out.push(ProfileWarning::MixedVersions(versions));
        }
        if !self.saturated.is_empty() {
            out.push(ProfileWarning::Saturated(&self.saturated));
        }
        out
    }
}
