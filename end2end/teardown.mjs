// After the run: removes the shared server's database, so runs leave nothing in the temp folder.
import fs from 'node:fs';

export default function teardown() {
  const database = process.env.HITL_E2E_DATABASE;
  if (!database) return;
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(`${database}${suffix}`, { force: true });
}
