-- The first statement runs, the second fails at run time (division by zero).
CREATE TABLE half_done (id int);
INSERT INTO half_done (id) VALUES (1 / 0);
