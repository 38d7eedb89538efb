-- The default collation of each character set: a column whose collation is
-- its set's default was declared with the set alone (`CHARACTER SET ascii`).
-- https://dev.mysql.com/doc/refman/8.0/en/information-schema-collations-table.html
SELECT CAST(CHARACTER_SET_NAME AS CHAR) AS character_set_name,
       CAST(COLLATION_NAME AS CHAR) AS collation_name
FROM information_schema.COLLATIONS
WHERE IS_DEFAULT = 'Yes'
