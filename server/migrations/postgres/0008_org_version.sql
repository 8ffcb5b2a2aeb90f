-- A number that moves whenever the unit tree changes, whichever process changes it (another
-- server, `fengqiao org import`): a server reads the whole tree again only when it moved
-- (`Store::unit_tree`), where every sync session used to read it at its start.
CREATE TABLE org_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO org_version (id, version) VALUES (1, 1);

CREATE FUNCTION org_version_bump() RETURNS trigger AS $$
BEGIN
    UPDATE org_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER org_version_units AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON units
FOR EACH STATEMENT EXECUTE FUNCTION org_version_bump();
