-- The pool every indicator is computed from: the harmonised measures plus the derived ones
-- (int_derived_measures), one row per measure, reference municipality and year. An indicator in
-- seeds/indicators.csv names its numerator_measure and denominator_measure from this pool.
{{ indicator_inputs(ref('int_measures_harmonised'), ref('int_derived_measures')) }}
