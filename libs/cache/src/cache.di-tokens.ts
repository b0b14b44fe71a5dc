export const CACHE_OPTIONS = Symbol('CACHE_OPTIONS');
export const CACHE_WARMERS = Symbol('CACHE_WARMERS');
