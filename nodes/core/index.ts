export * from './errors';
export * from './time';
export * from './zone';
export * from './message';
export * from './adaptor';
export * from './state';
export * from './random';
export * from './hash';
