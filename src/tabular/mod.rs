//! Reading tabular files (CSV, XLSX) as a stream of records, and mapping their columns to
//! fields by header (built-in English and Arabic labels, and a profile's own mapping).
//! Shared by report import, reconciliation and settlement files. (Being built: issue 10.)
