-- Statements that arrived as xAPI now also fill the `extensions` column with their context and
-- result extensions ({"context": ..., "result": ...}, the layout tabular importers use), so every
-- indicator reads every source's extensions from one column.  Earlier versions left it empty for
-- them (the extensions stayed in `raw` only): fill it from `raw`.
UPDATE statements
SET extensions = CASE
    WHEN json_extract(raw, '$.context.extensions') IS NOT NULL
         AND json_extract(raw, '$.context.extensions')::VARCHAR NOT IN ('{}', 'null')
         AND json_extract(raw, '$.result.extensions') IS NOT NULL
         AND json_extract(raw, '$.result.extensions')::VARCHAR NOT IN ('{}', 'null')
        THEN json_object('context', json_extract(raw, '$.context.extensions'),
                         'result', json_extract(raw, '$.result.extensions'))::VARCHAR
    WHEN json_extract(raw, '$.context.extensions') IS NOT NULL
         AND json_extract(raw, '$.context.extensions')::VARCHAR NOT IN ('{}', 'null')
        THEN json_object('context', json_extract(raw, '$.context.extensions'))::VARCHAR
    WHEN json_extract(raw, '$.result.extensions') IS NOT NULL
         AND json_extract(raw, '$.result.extensions')::VARCHAR NOT IN ('{}', 'null')
        THEN json_object('result', json_extract(raw, '$.result.extensions'))::VARCHAR
END
WHERE extensions IS NULL AND raw IS NOT NULL;
