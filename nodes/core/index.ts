export * from './errors';
export * from './time';
export * from './message';
export * from './adaptor';
export * from './state';
export * from './random';
