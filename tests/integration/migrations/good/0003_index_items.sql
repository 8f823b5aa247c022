-- Non-ASCII text in a comment: café, naïve, 東京.
CREATE INDEX item_name_idx ON item (name);
