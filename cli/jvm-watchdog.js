// Spawned by cli/local-dynamodb.ts beside each embedded DynamoDB Local: `node jvm-watchdog.js <parent pid> <jvm pid>`.
// Polls every 250 ms; once the parent is gone (SIGKILL, crash) it stops the JVM (SIGTERM, then SIGKILL after 3 s),
// so no JVM outlives its CLI. Exits as soon as the JVM is gone. Plain JavaScript: it must start without tsx.
/* global setInterval, clearInterval */
const [parent, jvm] = process.argv.slice(2).map(Number);
const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};
const timer = setInterval(() => {
  if (!alive(jvm)) process.exit(0);
  // a parent that died leaves us to init (or a subreaper): the ppid changes even if its pid is reused
  if (process.ppid === parent && alive(parent)) return;
  clearInterval(timer);
  try {
    process.kill(jvm, 'SIGTERM');
  } catch {
    process.exit(0);
  }
  setTimeout(() => {
    try {
      process.kill(jvm, 'SIGKILL');
    } catch {
      // already gone
    }
    process.exit(0);
  }, 3000).unref();
  const poll = setInterval(() => {
    if (!alive(jvm)) process.exit(0);
  }, 100);
  void poll;
}, 250);
