-- The first statement is fine, the second is a syntax error.
CREATE TABLE half_done (id int);
SELEC 1;
