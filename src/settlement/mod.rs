//! Settlement files from the acquirer or bank, and their matching with paid payments and
//! refunds. (Being built: issue 10.)
