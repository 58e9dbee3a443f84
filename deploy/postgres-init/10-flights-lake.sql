-- Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d): the
-- DuckLake catalog's database, owned by the same role as Dagster's storage. DuckLake creates its
-- tables on the first attach.
create database flights_lake owner dagster;
