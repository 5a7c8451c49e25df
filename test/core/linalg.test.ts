import assert from 'node:assert/strict';
import { cholesky, choleskySolve, invertSpd, quadForm } from '../../nodes/core/linalg';

const close = (a: number[][], b: number[][]) =>
  a.forEach((r, i) =>
    r.forEach((v, j) => assert.ok(Math.abs(v - b[i][j]) < 1e-12, `[${i}][${j}] ${v} vs ${b[i][j]}`)),
  );

describe('core/linalg: symmetric positive definite matrices', () => {
  const A = [
    [4, 2],
    [2, 3],
  ];

  it('factors, solves and inverts against values worked by hand', () => {
    close(cholesky(A), [
      [2, 0],
      [1, Math.SQRT2],
    ]);
    close([choleskySolve(cholesky(A), [2, 1])], [[0.5, 0]]);
    close(invertSpd(A), [
      [3 / 8, -2 / 8],
      [-2 / 8, 4 / 8],
    ]);
    assert.equal(quadForm([1, 2], A), 4 + 2 * 2 * 2 + 3 * 4);
  });

  it('gives the identity from A·A⁻¹ on a larger matrix', () => {
    const M = [
      [6, 2, 1, 0.5],
      [2, 5, 2, 1],
      [1, 2, 4, 1.5],
      [0.5, 1, 1.5, 3],
    ];
    const inv = invertSpd(M);
    const prod = M.map((r) => inv[0].map((_, j) => r.reduce((s, v, k) => s + v * inv[k][j], 0)));
    close(
      prod,
      M.map((r, i) => r.map((_, j) => (i === j ? 1 : 0))),
    );
  });

  it('refuses a matrix that is not positive definite', () => {
    assert.throws(
      () =>
        cholesky([
          [1, 2],
          [2, 1],
        ]),
      /not positive definite/,
    );
  });
});
