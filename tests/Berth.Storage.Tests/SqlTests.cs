namespace Berth.Storage.Tests;

public sealed class SqlTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly ObjectStorage _storage;

    public SqlTests() => _storage = ObjectStorage.Open(_dir.File("object.db"));

    public void Dispose()
    {
        _storage.Dispose();
        _dir.Dispose();
    }

    private sealed record Item(long Id, string Name, double? Price);

    [Fact]
    public void Exec_InsertAndSelect_ReturnsRowsColumnsAndCounts()
    {
        _storage.Sql.Exec("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL)");
        var insert = _storage.Sql.Exec("INSERT INTO items (name, price) VALUES (?, ?), (?, ?)", "pen", 1.5, "ink", null);

        var select = _storage.Sql.Exec("SELECT id, name, price FROM items ORDER BY id");

        Assert.Equal(2, insert.RowsWritten);
        Assert.Equal(["id", "name", "price"], select.ColumnNames);
        Assert.Equal(2, select.RowsRead);
        Assert.Equal(0, select.RowsWritten);
        var rows = select.ToArray();
        Assert.Equal(1L, rows[0]["id"]);
        Assert.Equal("pen", rows[0]["name"]);
        Assert.Equal(1.5, rows[0]["price"]);
        Assert.Null(rows[1]["price"]);
        Assert.Equal([new Item(1, "pen", 1.5), new Item(2, "ink", null)], select.ToArray<Item>());
        Assert.Equal([2L, "ink", null], select.Raw()[1]);
    }

    [Fact]
    public void One_ScalarAndRecord_MapsSingleRow()
    {
        Assert.Equal(3L, _storage.Sql.Exec("SELECT 1 + 2").One<long>());
        Assert.Equal("x", _storage.Sql.Exec("SELECT ? AS v", "x").One<string>());
        Assert.Equal(new Item(7, "seven", null), _storage.Sql.Exec("SELECT 7 AS id, 'seven' AS name, NULL AS price").One<Item>());
        Assert.Throws<InvalidOperationException>(() => _storage.Sql.Exec("SELECT 1 WHERE 0").One());
    }

    [Fact]
    public void Exec_SeveralStatements_BindsInOrderAndReturnsLastResult()
    {
        var cursor = _storage.Sql.Exec("""
            CREATE TABLE t (a INTEGER, b TEXT);
            INSERT INTO t VALUES (?, ?);
            INSERT INTO t VALUES (?, ?);
            SELECT a, b FROM t WHERE a > ? ORDER BY a
            """, 1, "one", 2, "two", 1);

        Assert.Equal(2, cursor.RowsWritten);
        var row = cursor.One();
        Assert.Equal(2L, row["a"]);
        Assert.Equal("two", row["b"]);
    }

    [Fact]
    public void Exec_LaterStatementFails_RollsBackEarlierOnes()
    {
        _storage.Sql.Exec("CREATE TABLE t (a INTEGER NOT NULL)");

        Assert.ThrowsAny<Microsoft.Data.Sqlite.SqliteException>(() =>
            _storage.Sql.Exec("INSERT INTO t VALUES (1); INSERT INTO t VALUES (NULL)"));

        Assert.Equal(0L, _storage.Sql.Exec("SELECT count(*) FROM t").One<long>());
    }

    [Fact]
    public void Exec_WrongBindingCount_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => _storage.Sql.Exec("SELECT ?, ?", 1));
        Assert.Throws<ArgumentException>(() => _storage.Sql.Exec("SELECT ?", 1, 2));
    }

    [Fact]
    public void Exec_BlobAndBoolBindings_RoundTrip()
    {
        var cursor = _storage.Sql.Exec("SELECT ? AS b, ? AS t", new byte[] { 1, 2, 3 }, true);

        Assert.Equal(new byte[] { 1, 2, 3 }, cursor.One()["b"]);
        Assert.Equal(1L, cursor.One()["t"]);
    }

    [Theory]
    [InlineData("SELECT * FROM _berth_kv")]
    [InlineData("DELETE FROM _berth_alarm")]
    [InlineData("CREATE TABLE _berth_mine (x)")]
    [InlineData("DROP TABLE _berth_kv")]
    public void Exec_ReservedTable_ThrowsInvalidOperation(string sql)
    {
        _storage.Put("k", 1);

        var error = Assert.Throws<InvalidOperationException>(() => _storage.Sql.Exec(sql));

        Assert.Contains("_berth_", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, _storage.Get<int>("k"));
    }

    [Theory]
    [InlineData("BEGIN")]
    [InlineData("SAVEPOINT s")]
    [InlineData("PRAGMA max_page_count = 1000000000")]
    [InlineData("PRAGMA journal_mode = DELETE")]
    [InlineData("ATTACH DATABASE ':memory:' AS other")]
    public void Exec_StatementEscapingGuarantees_ThrowsInvalidOperation(string sql)
    {
        Assert.Throws<InvalidOperationException>(() => _storage.Sql.Exec(sql));
    }

    [Fact]
    public void Exec_ReadOnlyPragma_IsAllowed()
    {
        _storage.Sql.Exec("CREATE TABLE t (a, b)");

        Assert.Equal(2, _storage.Sql.Exec("PRAGMA table_info(t)").Count);
        Assert.True(_storage.Sql.Exec("PRAGMA max_page_count").One<long>() > 0);
    }

    [Fact]
    public void Exec_UserTables_SharesDatabaseWithKeyValue()
    {
        _storage.Transaction(s =>
        {
            s.Sql.Exec("CREATE TABLE t (x)");
            s.Put("k", "v");
        });

        Assert.Equal(["t"], _storage.Sql.Exec("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE '\\_berth\\_%' ESCAPE '\\'").ToArray<string>());
        Assert.Equal("v", _storage.Get<string>("k"));
    }
}
