-- SQL workload for the coverage build of SQLite's amalgamation (tests/large/build.sh).
-- sqlite_driver runs it statement by statement; a statement that fails prints
-- "error: ..." and the run goes on, so the error paths below are intended.
-- Keep it deterministic: no date('now'), no random() in results that steer control flow.

PRAGMA journal_mode = WAL;
PRAGMA foreign_keys = ON;
PRAGMA cache_size = 200;

CREATE TABLE dept(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, budget REAL);
CREATE TABLE emp(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  dept_id INTEGER REFERENCES dept(id) ON DELETE CASCADE,
  salary INTEGER CHECK (salary >= 0),
  hired TEXT,
  notes BLOB
);
CREATE TABLE kv(k TEXT PRIMARY KEY, v ANY) WITHOUT ROWID;
CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT, at INTEGER);

INSERT INTO dept(name, budget) VALUES ('eng', 1.5e6), ('ops', 4.0e5), ('sales', 7.25e5), ('legal', NULL);

-- a few thousand rows from a recursive CTE
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO emp(name, dept_id, salary, hired, notes)
SELECT printf('emp%05d', i), 1 + (i * 7) % 4, 30000 + (i * 7919) % 90000,
       date('2000-01-01', '+' || (i % 7000) || ' days'),
       CASE WHEN i % 10 = 0 THEN zeroblob(i % 64) ELSE NULL END
FROM n;

CREATE INDEX emp_dept ON emp(dept_id, salary DESC);
CREATE INDEX emp_hired ON emp(hired) WHERE hired > '2010-01-01';
CREATE INDEX emp_lname ON emp(lower(name));

CREATE TRIGGER emp_audit AFTER UPDATE OF salary ON emp
BEGIN
  INSERT INTO audit(what, at) VALUES ('raise ' || new.name || ' ' || (new.salary - old.salary), new.id);
END;

CREATE VIEW dept_stats AS
SELECT d.name AS dept, count(e.id) AS n, avg(e.salary) AS avg_salary,
       min(e.salary) AS lo, max(e.salary) AS hi, total(e.salary) AS payroll
FROM dept d LEFT JOIN emp e ON e.dept_id = d.id
GROUP BY d.id;

SELECT * FROM dept_stats ORDER BY dept;
SELECT dept_id, count(*), sum(salary) FROM emp GROUP BY dept_id HAVING count(*) > 10 ORDER BY 3 DESC;
SELECT e.name, d.name FROM emp e JOIN dept d ON d.id = e.dept_id WHERE e.salary BETWEEN 50000 AND 50500 ORDER BY e.name;
SELECT count(*) FROM emp WHERE dept_id IN (SELECT id FROM dept WHERE budget > 500000);
SELECT count(*) FROM emp e WHERE EXISTS (SELECT 1 FROM dept d WHERE d.id = e.dept_id AND d.budget IS NULL);
SELECT name FROM emp WHERE lower(name) LIKE 'emp0001%' ORDER BY name LIMIT 5 OFFSET 2;
SELECT name, salary, rank() OVER (PARTITION BY dept_id ORDER BY salary DESC) AS r,
       sum(salary) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS rolling
FROM emp WHERE id <= 40 ORDER BY id;
SELECT dept_id, group_concat(name, ',') FROM (SELECT * FROM emp WHERE id % 500 = 0) GROUP BY dept_id;
SELECT substr(hired, 1, 4) AS y, count(*) FROM emp GROUP BY y ORDER BY y LIMIT 8;
SELECT a.id, b.id FROM emp a, emp b WHERE a.id < 5 AND b.id < 5 AND a.id <> b.id ORDER BY 1, 2;
SELECT id FROM emp WHERE id < 10 UNION SELECT id FROM emp WHERE id BETWEEN 5 AND 15
EXCEPT SELECT id FROM emp WHERE id % 3 = 0 INTERSECT SELECT id FROM emp ORDER BY 1;
SELECT CAST('42' AS INTEGER) + 1, CAST(3.75 AS TEXT), typeof(x'00ff'), hex(randomblob(0)),
       abs(-5), round(2.5), coalesce(NULL, 'x'), nullif(1, 1), iif(1 > 2, 'a', 'b'),
       upper('mixed Case'), trim('  pad  '), replace('aaa', 'a', 'bb'), instr('hello', 'll'),
       length('héllo'), unicode('é'), char(72, 105), quote('it''s'), printf('%5.2f|%-4d|%x', 3.14159, 7, 255);
SELECT strftime('%Y-%m-%d %H:%M', '2024-02-29 13:45:00', '+1 year'), julianday('2000-01-01'),
       datetime(0, 'unixepoch'), time('12:00:00', '+90 minutes');

EXPLAIN QUERY PLAN SELECT * FROM emp WHERE dept_id = 2 AND salary > 100000;
EXPLAIN SELECT count(*) FROM emp WHERE hired > '2015-01-01';

-- transactions, savepoints, rollback
BEGIN;
UPDATE emp SET salary = salary + 1000 WHERE dept_id = 3 AND id % 50 = 0;
SAVEPOINT sp1;
DELETE FROM emp WHERE id % 7 = 0;
SELECT count(*) FROM emp;
ROLLBACK TO sp1;
RELEASE sp1;
SELECT count(*) FROM emp;
COMMIT;
BEGIN IMMEDIATE;
DELETE FROM emp WHERE id > 2900;
ROLLBACK;
SELECT count(*), (SELECT count(*) FROM audit) FROM emp;

-- upsert, returning, replace
INSERT INTO kv VALUES ('a', 1), ('b', 2.5), ('c', 'three'), ('d', x'0102');
INSERT INTO kv VALUES ('a', 10) ON CONFLICT(k) DO UPDATE SET v = v + excluded.v;
INSERT OR REPLACE INTO kv VALUES ('b', NULL);
UPDATE kv SET v = 'changed' WHERE k = 'c' RETURNING k, v;
DELETE FROM kv WHERE k = 'd' RETURNING *;
SELECT k, v, typeof(v) FROM kv ORDER BY k;

-- errors: constraint violations, syntax, missing objects, type and misuse errors
INSERT INTO dept(name) VALUES ('eng');
INSERT INTO emp(name, dept_id, salary) VALUES ('bad', 1, -1);
INSERT INTO emp(name, dept_id, salary) VALUES ('orphan', 99, 1);
INSERT INTO emp(id, name) VALUES (1, 'dup');
INSERT INTO emp(name) VALUES (NULL);
SELEC * FROM emp;
SELECT * FROM no_such_table;
SELECT no_such_column FROM emp;
SELECT no_such_function(1);
CREATE TABLE dept(x);
DROP INDEX no_such_index;
SELECT json('{bad json');
COMMIT;

-- JSON
SELECT json_object('a', 1, 'b', json_array(1, 2, 'x'), 'c', NULL);
SELECT json_extract('{"a":{"b":[10,20,30]}}', '$.a.b[1]'), '{"x":5}' ->> '$.x', '[1,2,3]' -> 2;
SELECT key, value, type FROM json_each('{"k1":1,"k2":[true,false],"k3":{"n":null}}');
SELECT fullkey, atom FROM json_tree('[1,[2,[3,"four"]]]');
SELECT json_group_array(id) FROM (SELECT id FROM emp WHERE id < 6);
SELECT json_set('{"a":1}', '$.b', 2), json_remove('[1,2,3]', '$[0]'), json_patch('{"a":1}', '{"a":null,"c":3}'), json_valid('{"ok":true}');

-- FTS5 and FTS3
CREATE VIRTUAL TABLE docs USING fts5(title, body);
INSERT INTO docs VALUES ('sqlite', 'SQLite is a small, fast, self-contained SQL database engine'),
  ('lua', 'Lua is a powerful, efficient, lightweight, embeddable scripting language'),
  ('gcov', 'gcov is a test coverage program used with GCC'),
  ('lcov', 'lcov is a graphical front-end for gcov coverage data');
SELECT title, snippet(docs, 1, '[', ']', '...', 5) FROM docs WHERE docs MATCH 'coverage OR engine' ORDER BY rank;
SELECT title FROM docs WHERE docs MATCH 'body:small NEAR fast';
SELECT title, highlight(docs, 1, '<', '>') FROM docs WHERE docs MATCH 'gc*';
CREATE VIRTUAL TABLE notes3 USING fts4(txt);
INSERT INTO notes3 VALUES ('the quick brown fox'), ('jumps over the lazy dog'), ('quick quick fox');
SELECT rowid, txt FROM notes3 WHERE txt MATCH 'quick';
SELECT matchinfo(notes3) IS NOT NULL FROM notes3 WHERE txt MATCH 'fox';

-- R-tree
CREATE VIRTUAL TABLE boxes USING rtree(id, minx, maxx, miny, maxy);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
INSERT INTO boxes SELECT i, i % 20, i % 20 + 3, i / 20, i / 20 + 2 FROM n;
SELECT count(*) FROM boxes WHERE minx >= 5 AND maxx <= 12 AND miny >= 2 AND maxy <= 8;

-- stat4, analyze, dbstat, integrity
ANALYZE;
SELECT tbl, idx FROM sqlite_stat1 ORDER BY tbl, idx LIMIT 5;
SELECT count(*) FROM emp WHERE dept_id = 1 AND salary > 90000;
PRAGMA integrity_check;
PRAGMA foreign_key_check;
PRAGMA table_info(emp);
PRAGMA index_list(emp);
SELECT name, count(*) FROM dbstat GROUP BY name ORDER BY name LIMIT 5;

-- schema changes
ALTER TABLE emp ADD COLUMN bonus INTEGER DEFAULT 0;
ALTER TABLE emp RENAME COLUMN notes TO memo;
ALTER TABLE kv RENAME TO kv2;
UPDATE emp SET bonus = salary / 10 WHERE id % 100 = 1;
SELECT sum(bonus) FROM emp;
DROP VIEW dept_stats;
DROP TRIGGER emp_audit;

-- generated columns, strict tables
CREATE TABLE shapes(w REAL, h REAL, area REAL GENERATED ALWAYS AS (w * h) STORED, per REAL AS (2 * (w + h))) STRICT;
INSERT INTO shapes(w, h) VALUES (2, 3), (4.5, 1);
INSERT INTO shapes(w, h) VALUES ('wide', 1);
SELECT w, h, area, per FROM shapes;

-- delete cascade, vacuum
DELETE FROM dept WHERE name = 'legal';
SELECT count(*) FROM emp;
PRAGMA wal_checkpoint(TRUNCATE);
VACUUM;
PRAGMA optimize;
SELECT count(*) FROM sqlite_schema;
