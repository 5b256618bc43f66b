// The Postgres module: libpq connections and schema migrations.
