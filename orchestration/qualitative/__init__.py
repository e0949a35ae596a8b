"""The programme municipalities' open answers, analysed as the report did by hand (chapter 3, 5.2).

- `text`: cleaning of free text from outside (encodings, control characters, formulas) and tokens/stems;
- `taxonomy`: the themes per goal and the activity/assessment cues, from config/qualitative_themes.yaml;
- `tagger`: themes with evidence and negation, activity or assessment, a quotable sentence;
- `evaluate`: precision and recall against the hand-labelled set.

No Dagster or dbt imports here: dbt's Python models and the evaluation script call the same code.
"""
