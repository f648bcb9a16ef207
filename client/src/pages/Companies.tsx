export function Companies() {
  return <h1>Companies</h1>;
}
