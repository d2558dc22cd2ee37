"""Data for trying the register and measuring it, never for production records: the demo area
(`demo`, loaded by `ap-register demo`) and the synthetic nation for benchmarks (`synthetic`,
`ap-register generate`). Both write through the register's own rules, so what they make is
what a real area would hold."""
