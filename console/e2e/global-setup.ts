import { startStack } from "./stack";

export default async function globalSetup(): Promise<void> {
  const state = await startStack();
  process.stdout.write(
    `keyledger stack for the console e2e: API ${state.apiUrl}, validator ${state.validatorUrl}, topic ${state.topic}, logs in ${state.dir}\n`,
  );
}
