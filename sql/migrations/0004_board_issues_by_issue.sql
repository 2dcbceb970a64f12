-- An issue's board links are looked up by issue (re-posting an issue replaces its links; purge
-- and DORA read them by issue). The primary key (board_id, issue_id) cannot serve that, and
-- without this index every issue upsert scanned board_issues (found with EXPLAIN in `make bench`).
CREATE INDEX board_issues_issue_id_idx ON board_issues (issue_id);
