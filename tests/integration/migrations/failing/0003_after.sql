CREATE TABLE after_broken (id int);
