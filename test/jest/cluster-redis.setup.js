// Jest project e2e-cluster: startTestRedis() starts a cluster of three masters.
process.env.LATTICE_TEST_REDIS = 'cluster';
