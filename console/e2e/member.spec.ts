// What a team member (not an owner) sees and may do, against the real API and validator.

import {
  MIA,
  OMAR,
  apiAs,
  copySecret,
  createKeyInWindow,
  createKeyViaApi,
  dialog,
  expect,
  expectSecretGone,
  expectValidatorAllows,
  expectValidatorDenies,
  grantClipboard,
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

test.beforeEach(async ({ page, stack }) => {
  await grantClipboard(page.context(), stack);
});

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
  await window.getByRole("button", { name: "Done" }).click();
  await expectSecretGone(page, secret);
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
  const omar = await apiAs(playwright, stack, OMAR);
  const name = uniqueName(stack, "omars-private");
  await createKeyViaApi(omar, stack, { name, all_models: true });
  await omar.dispose();
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
  await openRowAction(page, name, "Regenerate");
  const window = dialog(page, "Regenerate model access key");
  await window.getByLabel("Type the key name to confirm").fill(name);
  await window.getByRole("button", { name: "Regenerate access key" }).click();
  const secret = await copySecret(page, window);
  await expectValidatorAllows(stack, secret);
  await window.getByRole("button", { name: "Done" }).click();
  await expectSecretGone(page, secret);
});

test("member regenerates and deletes her own key; each old secret is denied", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, MIA);
  const name = uniqueName(stack, "mia-lifecycle");
  const created = await createKeyInWindow(page, { name });
  const first = await copySecret(page, created);
  await created.getByRole("button", { name: "Done" }).click();
  await expectValidatorAllows(stack, first);

  await openRowAction(page, name, "Regenerate");
  const regenerate = dialog(page, "Regenerate model access key");
  await regenerate.getByLabel("Type the key name to confirm").fill(name);
  await regenerate
    .getByRole("button", { name: "Regenerate access key" })
    .click();
  const second = await copySecret(page, regenerate);
  await regenerate.getByRole("button", { name: "Done" }).click();
  await expectValidatorDenies(stack, first);
  await expectValidatorAllows(stack, second);

  await openRowAction(page, name, "Delete");
  const remove = dialog(page, "Delete model access key");
  await remove.getByLabel("Type the key name to confirm").fill(name);
  await remove.getByRole("button", { name: "Delete access key" }).click();
  await expect(remove).toBeHidden();
  await expect(row(page, name)).toHaveCount(0);
  await expectValidatorDenies(stack, second);
  await expectSecretGone(page, second);
});

test("member deletes her legacy key", async ({ page, stack }) => {
  await signIn(page, stack, MIA);
  await selectTab(page, "Legacy keys");
  const name = legacyKey(stack, "legacy-mia-delete");
  await openRowAction(page, name, "Delete");
  const window = dialog(page, "Delete model access key");
  await window.getByLabel("Type the key name to confirm").fill(name);
  await window.getByRole("button", { name: "Delete access key" }).click();
  await expect(window).toBeHidden();
  await expect(row(page, name)).toHaveCount(0);
});
