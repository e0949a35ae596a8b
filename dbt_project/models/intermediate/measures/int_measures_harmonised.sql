-- Every measure on the reference structure (var reference_date): value × weight summed per reference
-- municipality, year and measure. Merges add up; splits are allocated by int_municipality_crosswalk's
-- weights (split_flag says so). Ratios published by SSB are never summed: they survive only where the
-- mapping is one-to-one. If a contributing code has no value (suppressed, missing), the harmonised
-- value is unknown too and keeps that part's status symbol — a part is not the whole (macro
-- sum_of_parts); its bounds add up the parts' intervals (bounds_of_parts).
-- Where both an exactly-mapped code and a code mapped via another year ('nearest_year') land on the
-- same reference municipality and year, only the exact one counts (no double counting of SSB's
-- parallel old/new series).
{{ harmonised_measures(ref('int_measures_as_reported'), ref('int_municipality_crosswalk')) }}
