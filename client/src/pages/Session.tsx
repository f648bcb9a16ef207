export function Session() {
  return <h1>Session</h1>;
}
