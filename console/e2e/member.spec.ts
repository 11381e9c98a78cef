// What a team member (not an owner) sees and may do, against the real API and validator.

import {
  MIA,
  OMAR,
  closeDeletedWindow,
  closeSecretWindow,
  confirmRowAction,
  copySecret,
  createKeyAs,
  createKeyInWindow,
  createKeyWithWorkingSecret,
  dialog,
  expect,
  expectRevokedOnEveryValidator,
  expectSecretGone,
  expectValidatorAllows,
  expectValidatorDenies,
  grantClipboardInEachTest,
  legacyKey,
  menuButton,
  openRowAction,
  row,
  selectTab,
  signIn,
  signInWithButton,
  test,
  uniqueName,
  KEYS_PATH,
} from "./fixtures";

grantClipboardInEachTest();

test("member sees only My keys and Legacy keys, and no Team's tab at all", async ({
  page,
  stack,
}) => {
  await signInWithButton(page, stack, MIA);
  await expect(page.getByRole("tab")).toHaveText(["My keys", "Legacy keys"]);
  await expect(page.getByRole("tab", { name: "Team's keys" })).toHaveCount(0);
  await expect(page.getByText("Team's keys")).toHaveCount(0);
  // The page offers nothing the API would refuse: the team view is for owners.
  const answer = await page.request.get(
    `${stack.apiUrl}${KEYS_PATH}?view=team`,
  );
  expect(answer.status()).toBe(403);
});

test("member creates a key; it is listed under My keys and its secret works", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, MIA);
  const name = uniqueName(stack, "mia-created");
  const window = await createKeyInWindow(page, { name, batch: true });
  const secret = await copySecret(page, window);
  await expectValidatorAllows(stack, secret);
  await closeSecretWindow(page, window, secret);
  const created = row(page, name);
  await expect(created).toContainText("Batch Inference");
  await expect(menuButton(page, name)).toBeVisible();
});

test("member's menu is offered only on legacy keys she created", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, MIA);
  await selectTab(page, "Legacy keys");
  const hers = legacyKey(stack, "legacy-mia-rename");
  const omars = legacyKey(stack, "legacy-omar");
  await expect(row(page, hers)).toBeVisible();
  await expect(row(page, omars)).toBeVisible();
  await expect(row(page, omars)).toContainText("Omar Owner");
  await expect(menuButton(page, hers)).toBeVisible();
  await expect(menuButton(page, omars)).toHaveCount(0);
  await expect(
    row(page, omars).getByRole("button", { name: /^Actions/ }),
  ).toHaveCount(0);
});

test("member never sees other members' keys", async ({
  page,
  stack,
  playwright,
}) => {
  const { name } = await createKeyAs(playwright, stack, OMAR, "omars-private");
  await signIn(page, stack, MIA);
  await expect(row(page, name)).toHaveCount(0);
  await selectTab(page, "Legacy keys");
  await expect(row(page, name)).toHaveCount(0);
});

test("member renames her legacy key", async ({ page, stack }) => {
  await signIn(page, stack, MIA);
  await selectTab(page, "Legacy keys");
  const name = legacyKey(stack, "legacy-mia-rename");
  await openRowAction(page, name, "Rename");
  const window = dialog(page, "Rename model access key");
  const renamed = `${name}-2`;
  await window.getByLabel("Key name").fill(renamed);
  await window.getByRole("button", { name: "Update" }).click();
  await expect(window).toBeHidden();
  await expect(row(page, renamed)).toContainText("Legacy");
  await expect(menuButton(page, renamed)).toBeFocused();
});

test("member regenerates her legacy key; the new secret works", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, MIA);
  await selectTab(page, "Legacy keys");
  const name = legacyKey(stack, "legacy-mia-regenerate");
  const window = await confirmRowAction(page, name, "Regenerate");
  const secret = await copySecret(page, window);
  await expectValidatorAllows(stack, secret);
  await closeSecretWindow(page, window, secret);
});

test("member regenerates and deletes her own key; each old secret is denied", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, MIA);
  const name = uniqueName(stack, "mia-lifecycle");
  const first = await createKeyWithWorkingSecret(page, stack, name);

  const regenerate = await confirmRowAction(page, name, "Regenerate");
  const second = await copySecret(page, regenerate);
  await regenerate.getByRole("button", { name: "Done" }).click();
  await expectValidatorDenies(stack, first);
  await expectValidatorAllows(stack, second);

  const remove = await confirmRowAction(page, name, "Delete");
  await closeDeletedWindow(remove);
  await expect(row(page, name)).toHaveCount(0);
  await expectValidatorDenies(stack, second);
  await expectSecretGone(page, second);
});

test("member deletes her legacy key", async ({ page, stack }) => {
  await signIn(page, stack, MIA);
  await selectTab(page, "Legacy keys");
  const name = legacyKey(stack, "legacy-mia-delete");
  const window = await confirmRowAction(page, name, "Delete");
  await expectRevokedOnEveryValidator(window);
  await closeDeletedWindow(window);
  await expect(row(page, name)).toHaveCount(0);
});
