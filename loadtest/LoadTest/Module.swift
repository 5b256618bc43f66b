// The LoadTest module: the data seeder and the load generator.
