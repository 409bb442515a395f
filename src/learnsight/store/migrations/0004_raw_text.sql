-- Keep `raw` and `extensions` as plain text: the JSON type re-parses every value on insert, which
-- was two thirds of the store's cost of writing an xAPI statement.  JSON functions read VARCHAR the
-- same way, and importers hand the store validated JSON only.
ALTER TABLE statements ALTER raw TYPE VARCHAR;
ALTER TABLE statements ALTER extensions TYPE VARCHAR;
