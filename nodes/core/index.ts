export * from './errors';
export * from './time';
export * from './sample';
export * from './state';
export * from './random';
