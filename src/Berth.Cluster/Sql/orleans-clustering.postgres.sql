-- Orleans ADO.NET membership on PostgreSQL, as Berth applies it at every node's start.
-- Written for Berth after the query contract of Orleans' ADO.NET clustering provider (dotnet/orleans, MIT licence,
-- Copyright (c) .NET Foundation): the table and column names, the query keys and their parameter and result names
-- are Orleans'; every statement is idempotent so that nodes starting together can run it (under an advisory lock).

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey varchar(64) NOT NULL,
    QueryText varchar(8000) NOT NULL,
    CONSTRAINT OrleansQuery_Key PRIMARY KEY(QueryKey)
);

CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL,
    Timestamp timestamptz(3) NOT NULL DEFAULT now(),
    Version integer NOT NULL DEFAULT 0,
    CONSTRAINT PK_OrleansMembershipVersionTable_DeploymentId PRIMARY KEY(DeploymentId)
);

CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150) NOT NULL,
    Address varchar(45) NOT NULL,
    Port integer NOT NULL,
    Generation integer NOT NULL,
    SiloName varchar(150) NOT NULL,
    HostName varchar(150) NOT NULL,
    Status integer NOT NULL,
    ProxyPort integer NULL,
    SuspectTimes varchar(8000) NULL,
    StartTime timestamptz(3) NOT NULL,
    IAmAliveTime timestamptz(3) NOT NULL,
    CONSTRAINT PK_MembershipTable_DeploymentId PRIMARY KEY(DeploymentId, Address, Port, Generation),
    CONSTRAINT FK_MembershipTable_MembershipVersionTable_DeploymentId FOREIGN KEY (DeploymentId) REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

-- A new membership row and the table version's bump happen together or not at all (1 = done, 0 = lost the race).
CREATE OR REPLACE FUNCTION berth_orleans_insert_membership(
    deployment varchar, address_arg varchar, port_arg integer, generation_arg integer, silo_name varchar, host_name varchar,
    status_arg integer, proxy_port integer, start_time timestamptz, i_am_alive timestamptz, expected_version integer)
  RETURNS TABLE(row_count integer) AS
$body$
DECLARE
    affected integer := 0;
BEGIN
    BEGIN
        INSERT INTO OrleansMembershipTable (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
        VALUES (deployment, address_arg, port_arg, generation_arg, silo_name, host_name, status_arg, proxy_port, start_time, i_am_alive)
        ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING;
        GET DIAGNOSTICS affected = ROW_COUNT;
        UPDATE OrleansMembershipVersionTable SET Timestamp = now(), Version = Version + 1
        WHERE DeploymentId = deployment AND Version = expected_version AND affected > 0;
        GET DIAGNOSTICS affected = ROW_COUNT;
        ASSERT affected <> 0, 'version moved: roll back';
        RETURN QUERY SELECT affected;
    EXCEPTION WHEN assert_failure THEN
        RETURN QUERY SELECT 0;
    END;
END
$body$ LANGUAGE plpgsql;

-- An update of a membership row and the table version's bump happen together or not at all.
CREATE OR REPLACE FUNCTION berth_orleans_update_membership(
    deployment varchar, address_arg varchar, port_arg integer, generation_arg integer, status_arg integer,
    suspect_times varchar, i_am_alive timestamptz, expected_version integer)
  RETURNS TABLE(row_count integer) AS
$body$
DECLARE
    affected integer := 0;
BEGIN
    BEGIN
        UPDATE OrleansMembershipVersionTable SET Timestamp = now(), Version = Version + 1
        WHERE DeploymentId = deployment AND Version = expected_version;
        GET DIAGNOSTICS affected = ROW_COUNT;
        UPDATE OrleansMembershipTable SET Status = status_arg, SuspectTimes = suspect_times, IAmAliveTime = i_am_alive
        WHERE DeploymentId = deployment AND Address = address_arg AND Port = port_arg AND Generation = generation_arg AND affected > 0;
        GET DIAGNOSTICS affected = ROW_COUNT;
        ASSERT affected <> 0, 'version moved or row missing: roll back';
        RETURN QUERY SELECT affected;
    EXCEPTION WHEN assert_failure THEN
        RETURN QUERY SELECT 0;
    END;
END
$body$ LANGUAGE plpgsql;

INSERT INTO OrleansQuery(QueryKey, QueryText) VALUES
('UpdateIAmAlivetimeKey', '
    UPDATE OrleansMembershipTable SET IAmAliveTime = @IAmAliveTime
    WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL
      AND Address = @Address AND @Address IS NOT NULL
      AND Port = @Port AND @Port IS NOT NULL
      AND Generation = @Generation AND @Generation IS NOT NULL;'),
('InsertMembershipVersionKey', '
    WITH inserted AS (
        INSERT INTO OrleansMembershipVersionTable (DeploymentId) VALUES (@DeploymentId)
        ON CONFLICT (DeploymentId) DO NOTHING RETURNING 1)
    SELECT count(*)::integer FROM inserted;'),
('InsertMembershipKey', '
    SELECT * FROM berth_orleans_insert_membership(@DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName,
        @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version);'),
('UpdateMembershipKey', '
    SELECT * FROM berth_orleans_update_membership(@DeploymentId, @Address, @Port, @Generation, @Status,
        @SuspectTimes, @IAmAliveTime, @Version);'),
('MembershipReadRowKey', '
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
           m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable v
    LEFT OUTER JOIN OrleansMembershipTable m ON v.DeploymentId = m.DeploymentId
        AND Address = @Address AND @Address IS NOT NULL
        AND Port = @Port AND @Port IS NOT NULL
        AND Generation = @Generation AND @Generation IS NOT NULL
    WHERE v.DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL;'),
('MembershipReadAllKey', '
    SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
           m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
    FROM OrleansMembershipVersionTable v
    LEFT OUTER JOIN OrleansMembershipTable m ON v.DeploymentId = m.DeploymentId
    WHERE v.DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL;'),
('DeleteMembershipTableEntriesKey', '
    DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL;
    DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL;'),
('GatewaysQueryKey', '
    SELECT Address, ProxyPort, Generation FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL
      AND Status = @Status AND @Status IS NOT NULL AND ProxyPort > 0;'),
('CleanupDefunctSiloEntriesKey', '
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL
      AND IAmAliveTime < @IAmAliveTime AND Status != 3;'),
('CleanupDefunctSiloEntryKey', '
    DELETE FROM OrleansMembershipTable
    WHERE DeploymentId = @DeploymentId AND @DeploymentId IS NOT NULL
      AND Address = @Address AND @Address IS NOT NULL
      AND Port = @Port AND @Port IS NOT NULL
      AND Generation = @Generation AND @Generation IS NOT NULL;')
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- Berth's own view of the nodes: their node ID, location and HTTP address (one row per node, upserted at start).
CREATE TABLE IF NOT EXISTS berth_nodes
(
    cluster_id varchar(150) NOT NULL,
    node_id varchar(63) NOT NULL,
    location varchar(63) NOT NULL DEFAULT '',
    silo_address varchar(100) NOT NULL,
    http_url varchar(300) NOT NULL DEFAULT '',
    started_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_berth_nodes PRIMARY KEY (cluster_id, node_id)
);

-- The Docker engine each node runs its containers on (docker info's ID), written by the node once its silo is active: a
-- survivor removes a dead node's containers only from an engine they share. Added to berth_nodes of older databases too.
ALTER TABLE berth_nodes ADD COLUMN IF NOT EXISTS engine_id varchar(200) NOT NULL DEFAULT '';

-- One row per dead silo incarnation (address:port@generation) whose containers a survivor handled: the claim makes one
-- survivor act; an unfinished claim can be taken over once claimed_until has passed.
CREATE TABLE IF NOT EXISTS berth_node_cleanups
(
    cluster_id varchar(150) NOT NULL,
    silo varchar(150) NOT NULL,
    node_id varchar(63) NOT NULL,
    claimed_by varchar(63) NOT NULL,
    claimed_until timestamptz NOT NULL,
    done_at timestamptz NULL,
    removed integer NOT NULL DEFAULT 0,
    CONSTRAINT pk_berth_node_cleanups PRIMARY KEY (cluster_id, silo)
);
