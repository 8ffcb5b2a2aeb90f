-- A number that moves whenever the unit tree changes, whichever process changes it (the server,
-- `fengqiao org import` beside it): a server reads the whole tree again only when it moved
-- (`Store::unit_tree`), where every sync session used to read it at its start.
CREATE TABLE org_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO org_version (id, version) VALUES (1, 1);

CREATE TRIGGER org_version_unit_insert AFTER INSERT ON units
BEGIN
    UPDATE org_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER org_version_unit_update AFTER UPDATE ON units
BEGIN
    UPDATE org_version SET version = version + 1 WHERE id = 1;
END;

CREATE TRIGGER org_version_unit_delete AFTER DELETE ON units
BEGIN
    UPDATE org_version SET version = version + 1 WHERE id = 1;
END;
