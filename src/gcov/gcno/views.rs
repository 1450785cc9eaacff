//! Borrowed views of the flat notes model: a function, a block, a
//! location, and the iterators over them, each a reference into the
//! arrays of [`Gcno`] (see the parent module).

use super::{Arc, Block, Condition, Gcno, GcnoFunction, LocationEntry};

/// Source lines of a block in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location<'a> {
    /// The file name as recorded (relative to the compilation directory or
    /// absolute).
    pub file: &'a str,
    /// The file's index in [`Gcno::files`]: equal indices, equal names.
    pub file_index: usize,
    /// Line numbers, 1-based, in the order recorded.
    pub lines: &'a [u32],
}

impl Gcno {
    /// The functions in notes order (the order of their records in the gcda file too).
    pub fn functions(&self) -> Functions<'_> {
        Functions {
            notes: self,
            iter: self.functions.iter(),
        }
    }

    /// The file names of the functions' sources and the block locations,
    /// each once, in order of first mention ([`Location::file_index`] and
    /// [`FunctionRef::source_index`] index this).
    pub fn files(&self) -> &[String] {
        &self.files
    }
}

/// The functions of a notes file ([`Gcno::functions`]).
#[derive(Clone)]
pub struct Functions<'a> {
    notes: &'a Gcno,
    iter: std::slice::Iter<'a, GcnoFunction>,
}

impl<'a> Iterator for Functions<'a> {
    type Item = FunctionRef<'a>;
    fn next(&mut self) -> Option<FunctionRef<'a>> {
        let function = self.iter.next()?;
        Some(FunctionRef {
            notes: self.notes,
            function,
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

impl ExactSizeIterator for Functions<'_> {}

/// One function's flow graph and source position: its [`GcnoFunction`]
/// fields (through `Deref`), its blocks and its decisions.
#[derive(Clone, Copy)]
pub struct FunctionRef<'a> {
    notes: &'a Gcno,
    function: &'a GcnoFunction,
}

impl std::ops::Deref for FunctionRef<'_> {
    type Target = GcnoFunction;
    fn deref(&self) -> &GcnoFunction {
        self.function
    }
}

impl<'a> FunctionRef<'a> {
    /// The source file that holds the function's start.
    pub fn source(self) -> &'a str {
        self.notes
            .files
            .get(self.function.source as usize)
            .map_or("", String::as_str)
    }

    /// The index of [`FunctionRef::source`] in [`Gcno::files`].
    pub fn source_index(self) -> usize {
        self.function.source as usize
    }

    /// The function's fields, for as long as the notes are borrowed.
    pub fn info(self) -> &'a GcnoFunction {
        self.function
    }

    /// The basic blocks, in block-number order: 0 is the entry, the exit is
    /// block 1 from GCC 4.8 on and the last block before.
    pub fn blocks(self) -> Blocks<'a> {
        Blocks {
            notes: self.notes,
            iter: self.function.blocks.of(&self.notes.blocks).iter(),
        }
    }

    /// Block `number`, if the function has it.
    pub fn block(self, number: usize) -> Option<BlockRef<'a>> {
        let block = self.function.blocks.of(&self.notes.blocks).get(number)?;
        Some(BlockRef {
            notes: self.notes,
            block,
        })
    }

    /// The decisions of condition coverage (GCC 14+), in record order: the
    /// `conditions` counters hold two values per decision in this order.
    pub fn conditions(self) -> &'a [Condition] {
        self.function.conditions.of(&self.notes.conditions)
    }
}

/// The blocks of a function ([`FunctionRef::blocks`]).
#[derive(Clone)]
pub struct Blocks<'a> {
    notes: &'a Gcno,
    iter: std::slice::Iter<'a, Block>,
}

impl<'a> Iterator for Blocks<'a> {
    type Item = BlockRef<'a>;
    fn next(&mut self) -> Option<BlockRef<'a>> {
        let block = self.iter.next()?;
        Some(BlockRef {
            notes: self.notes,
            block,
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

impl ExactSizeIterator for Blocks<'_> {}

/// A basic block of a function's flow graph, as the notes describe it.
#[derive(Clone, Copy)]
pub struct BlockRef<'a> {
    notes: &'a Gcno,
    block: &'a Block,
}

impl<'a> BlockRef<'a> {
    /// Block flags (GCC 3.4-7 write one word per block; later releases none).
    pub fn flags(self) -> u32 {
        self.block.flags
    }

    /// Outgoing arcs in file order.
    pub fn arcs(self) -> &'a [Arc] {
        self.block.arcs.of(&self.notes.arcs)
    }

    /// Source lines, grouped by file, in file order.
    pub fn locations(self) -> Locations<'a> {
        Locations {
            notes: self.notes,
            iter: self.block.locations.of(&self.notes.locations).iter(),
        }
    }
}

/// The locations of a block ([`BlockRef::locations`]).
#[derive(Clone)]
pub struct Locations<'a> {
    notes: &'a Gcno,
    iter: std::slice::Iter<'a, LocationEntry>,
}

impl<'a> Iterator for Locations<'a> {
    type Item = Location<'a>;
    fn next(&mut self) -> Option<Location<'a>> {
        let l = self.iter.next()?;
        let file_index = l.file as usize;
        Some(Location {
            file: self.notes.files.get(file_index).map_or("", String::as_str),
            file_index,
            lines: l.lines.of(&self.notes.lines),
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

impl ExactSizeIterator for Locations<'_> {}

/// The views print what they show, not the whole notes they borrow.
mod debug {
    use super::{BlockRef, Blocks, FunctionRef, Functions, Locations};
    use std::fmt;

    impl fmt::Debug for FunctionRef<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("FunctionRef")
                .field("function", self.function)
                .field("blocks", &self.blocks())
                .field("conditions", &self.conditions())
                .finish()
        }
    }

    impl fmt::Debug for BlockRef<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("BlockRef")
                .field("flags", &self.flags())
                .field("arcs", &self.arcs())
                .field("locations", &self.locations())
                .finish()
        }
    }

    impl fmt::Debug for Functions<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_list().entries(self.clone()).finish()
        }
    }

    impl fmt::Debug for Blocks<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_list().entries(self.clone()).finish()
        }
    }

    impl fmt::Debug for Locations<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_list().entries(self.clone()).finish()
        }
    }
}

/// The nested shape the model had when each block owned its parts, which
/// `xencov-rs dump --json` prints: functions with their blocks, blocks
/// with their arcs and locations.
#[cfg(feature = "serde")]
mod serialize {
    use super::{BlockRef, FunctionRef, Gcno, Location};
    use serde::ser::{Serialize, SerializeStruct, Serializer};

    impl Serialize for Gcno {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Gcno", 4)?;
            st.serialize_field("header", &self.header)?;
            st.serialize_field("cwd", &self.cwd)?;
            st.serialize_field("has_unexecuted_blocks", &self.has_unexecuted_blocks)?;
            st.serialize_field("functions", &Seq(|| self.functions()))?;
            st.end()
        }
    }

    impl Serialize for FunctionRef<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let conditions = self.conditions();
            let fields = if conditions.is_empty() { 9 } else { 10 };
            let mut st = s.serialize_struct("GcnoFunction", fields)?;
            st.serialize_field("id", &self.id)?;
            st.serialize_field("name", &self.name)?;
            st.serialize_field("artificial", &self.artificial)?;
            st.serialize_field("source", self.source())?;
            st.serialize_field("start_line", &self.start_line)?;
            st.serialize_field("start_column", &self.start_column)?;
            st.serialize_field("end_line", &self.end_line)?;
            st.serialize_field("end_column", &self.end_column)?;
            let me = *self;
            st.serialize_field("blocks", &Seq(|| me.blocks()))?;
            if conditions.is_empty() {
                st.skip_field("conditions")?;
            } else {
                st.serialize_field("conditions", conditions)?;
            }
            st.end()
        }
    }

    impl Serialize for BlockRef<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Block", 3)?;
            st.serialize_field("flags", &self.flags())?;
            st.serialize_field("arcs", self.arcs())?;
            let me = *self;
            st.serialize_field("locations", &Seq(|| me.locations()))?;
            st.end()
        }
    }

    impl Serialize for Location<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Location", 2)?;
            st.serialize_field("file", self.file)?;
            st.serialize_field("lines", self.lines)?;
            st.end()
        }
    }

    /// A view's iterator serialized as a sequence.
    struct Seq<F>(F);

    impl<F, I> Serialize for Seq<F>
    where
        F: Fn() -> I,
        I: ExactSizeIterator,
        I::Item: Serialize,
    {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq((self.0)())
        }
    }
}
