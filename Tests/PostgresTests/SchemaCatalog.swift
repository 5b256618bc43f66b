import Postgres

/// What a database's public schema is made of, one sorted line per item (relations, columns
/// with types and defaults, constraints, indexes, views, functions with their bodies, triggers,
/// enum types, publications): two databases with equal catalogs behave alike.
enum SchemaCatalog {
    static func lines(of connection: PostgresConnection) throws -> [String] {
        let result = try connection.query("""
            SELECT item FROM (
              SELECT 'relation ' || relname || ' kind ' || relkind::text || ' persistence ' || relpersistence::text AS item
                FROM pg_class WHERE relnamespace = 'public'::regnamespace
              UNION ALL
              SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                     || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                     || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
                FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
               WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
              UNION ALL
              SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                FROM pg_constraint WHERE connamespace = 'public'::regnamespace
              UNION ALL
              SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
              UNION ALL
              SELECT 'view ' || relname || ' ' || pg_get_viewdef(oid)
                FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'v'
              UNION ALL
              SELECT 'function ' || pg_get_functiondef(oid) FROM pg_proc WHERE pronamespace = 'public'::regnamespace
              UNION ALL
              SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
                FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
               WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace
              UNION ALL
              SELECT 'enum ' || t.typname || ' ' || string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
               WHERE t.typnamespace = 'public'::regnamespace GROUP BY t.typname
              UNION ALL
              SELECT 'publication ' || pubname || ' all tables ' || puballtables || ' insert ' || pubinsert
                     || ' update ' || pubupdate || ' delete ' || pubdelete || ' truncate ' || pubtruncate
                FROM pg_publication
            ) items ORDER BY item
            """)
        return result.rows.compactMap { $0.first ?? nil }
    }

    /// The migrations a database recorded: version, file name and checksum (not when).
    static func recordedMigrations(of connection: PostgresConnection) throws -> [String] {
        try connection.query("SELECT version || ' ' || file_name || ' ' || checksum FROM schema_migrations ORDER BY version")
            .rows.compactMap { $0.first ?? nil }
    }
}
