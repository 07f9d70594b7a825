//! Flag values that name a core type: clap's side of the mapping, so the
//! core knows nothing of clap.

use crate::csvio::Encoding;
use crate::ops::export::What;

/// `--encoding`: the text encoding of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EncodingArg {
    /// UTF-8 (BOM or not) if most lines around the first non-ASCII byte are
    /// valid UTF-8, else GB18030; each row is then checked against it.
    Auto,
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    /// GB18030, a superset of GBK and GB2312.
    #[value(name = "gb18030", alias = "gbk")]
    Gb18030,
}

impl From<EncodingArg> for Encoding {
    fn from(e: EncodingArg) -> Encoding {
        match e {
            EncodingArg::Auto => Encoding::Auto,
            EncodingArg::Utf8 => Encoding::Utf8,
            EncodingArg::Gb18030 => Encoding::Gb18030,
        }
    }
}

/// `export WHAT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WhatArg {
    /// Members with tier, balance and the last 365 days' spend (SPEC columns).
    Tiers,
    /// Every member's record.
    Members,
    /// Ledger entries.
    Ledger,
    /// Receipts (sales and returns).
    Receipts,
}

impl From<WhatArg> for What {
    fn from(w: WhatArg) -> What {
        match w {
            WhatArg::Tiers => What::Tiers,
            WhatArg::Members => What::Members,
            WhatArg::Ledger => What::Ledger,
            WhatArg::Receipts => What::Receipts,
        }
    }
}
