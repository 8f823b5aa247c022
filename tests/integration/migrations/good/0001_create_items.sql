-- Unqualified names land in the schema the runner puts on the search_path.
CREATE TABLE item (
    id   int PRIMARY KEY,
    name text NOT NULL
);

CREATE TABLE seed_log (
    note text NOT NULL
);
