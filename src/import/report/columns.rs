//! A profile's saved column mapping, as the CLI (`--show-map`) and the app show and edit it.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{FieldContext, Result};
use crate::ledger::Ledger;
use crate::model::ProfileName;
use crate::tabular::mapping::{self, FileKind, IGNORED};
use crate::tabular::{MappedColumn, Mapping, parse_override};

/// Sets `HEADER=field` pairs (`HEADER=-` ignores a column) in a profile's mapping of one
/// kind of file; other headers keep theirs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ColumnMapRequest {
    pub profile: String,
    pub kind: FileKind,
    pub map: Vec<String>,
}

impl Ledger {
    /// The profile's saved mapping for `kind`: each saved header (as compared: trimmed,
    /// lower case) with its field, `None` for a column to ignore. Headers not listed use
    /// the built-in English and Arabic labels.
    pub fn column_map(&mut self, profile: &str, kind: FileKind) -> Result<Vec<MappedColumn>> {
        let name = ProfileName::parse(profile).field("profile")?;
        let id = self.profile_id(name.as_str())?;
        let saved = self.store().read(|tx| mapping::load_saved(tx, id, kind))?;
        Ok(saved
            .into_iter()
            .map(|(header, field)| MappedColumn {
                header,
                field: (field != IGNORED).then_some(field),
            })
            .collect())
    }

    /// Saves the pairs (checked: `HEADER=field` with a field of `kind`) and returns the
    /// whole saved mapping.
    pub fn set_column_map(&mut self, request: &ColumnMapRequest) -> Result<Vec<MappedColumn>> {
        let name = ProfileName::parse(&request.profile).field("profile")?;
        let id = self.profile_id(name.as_str())?;
        let pairs = request
            .map
            .iter()
            .map(|m| parse_override(m))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        // The fields are checked as a mapping of a file with exactly these headers would
        // be; required fields are not (a saved mapping covers a few columns).
        let headers: Vec<String> = pairs.iter().map(|(h, _)| h.clone()).collect();
        if let Err(e) = Mapping::resolve(request.kind, &headers, &[], &pairs)
            && !matches!(
                e,
                crate::tabular::MappingError::MissingField { .. }
                    | crate::tabular::MappingError::MissingReference { .. }
            )
        {
            return Err(e.into());
        }
        let now_ms = self.clock().now_ms();
        self.store()
            .write(|tx| mapping::save(tx, id, request.kind, &pairs, now_ms))?;
        self.column_map(name.as_str(), request.kind)
    }
}
