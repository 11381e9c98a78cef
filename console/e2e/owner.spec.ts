// What a team owner does on the Manage Model Access Keys page, against the real API and
// validator.

import {
  CONFIRM_LABEL,
  GINA,
  MIA,
  OLGA,
  OMAR,
  apiAs,
  closeDeletedWindow,
  closeSecretWindow,
  confirmInWindow,
  confirmRowAction,
  copySecret,
  createKeyAs,
  createKeyInWindow,
  createKeyViaApi,
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
  revocationLine,
  row,
  selectTab,
  signIn,
  test,
  uniqueName,
} from "./fixtures";

grantClipboardInEachTest();

test("owner sees My keys, Legacy keys and Team's keys", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  await expect(page.getByRole("tab")).toHaveText([
    "My keys",
    "Legacy keys",
    "Team's keys",
  ]);
  await expect(page.getByRole("tab", { name: "My keys" })).toHaveAttribute(
    "aria-selected",
    "true",
  );
});

test("owner creates an all-models key with batch; the copied secret works and then leaves the page", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  const name = uniqueName(stack, "batch");
  const window = await createKeyInWindow(page, { name, batch: true });
  await expect(
    window.getByText("This secret is visible only once."),
  ).toBeVisible();
  const secret = await copySecret(page, window);
  await expectValidatorAllows(stack, secret);

  await window.getByRole("button", { name: "Done" }).click();
  await expect(window).toBeHidden();
  await expect(
    page.getByRole("button", { name: "Create model access key" }),
  ).toBeFocused();
  await expectSecretGone(page, secret);

  const created = row(page, name);
  await expect(created).toBeVisible();
  await expect(created).toContainText("No VPC network");
  await expect(created).toContainText(secret.slice(-4));
  const models = created.getByRole("button", { name: /All models/ });
  await expect(models).toContainText("Batch Inference");
  await models.hover();
  const tooltip = page.getByRole("tooltip");
  await expect(tooltip).toBeVisible();
  await expect(tooltip).toContainText("GPT-4o");
  await expect(tooltip).toContainText("Batch Inference");
  // Newest first.
  await expect(page.getByRole("rowheader").first()).toHaveText(name);
});

test("owner creates a key for selected models in a team VPC; the models cell lists them on focus", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  const vpcs = (await (
    await page.request.get(`${stack.apiUrl}/v2/vpcs`)
  ).json()) as {
    vpcs: { id: string; name: string }[];
  };
  const vpc = vpcs.vpcs[0];
  expect(vpc, "team-acme has VPCs").toBeDefined();
  const name = uniqueName(stack, "scoped");
  const window = await createKeyInWindow(page, {
    name,
    models: ["GPT-4o (OpenAI)", "Claude 3.5 Haiku (Anthropic)"],
    ...(vpc ? { vpcName: vpc.name } : {}),
  });
  const secret = await copySecret(page, window);
  await expectValidatorAllows(stack, secret, {
    "X-Keyledger-Source-Vpc": vpc?.id ?? "",
  });
  await page.keyboard.press("Escape");
  await expectSecretGone(page, secret);

  const created = row(page, name);
  await expect(created).toContainText(vpc?.name ?? "");
  const models = created.getByRole("button", { name: /GPT-4o/ });
  await expect(models).toContainText("Claude 3.5 Haiku");
  await models.focus();
  const tooltip = page.getByRole("tooltip");
  await expect(tooltip).toBeVisible();
  const listed = await tooltip.getByRole("listitem").allTextContents();
  expect(listed.sort()).toEqual(["Claude 3.5 Haiku", "GPT-4o"]);
});

test("the batch toggle is offered only with All models, and VPC choices are only the team's", async ({
  page,
  stack,
  playwright,
}) => {
  await signIn(page, stack, OLGA);
  await page.getByRole("button", { name: "Create model access key" }).click();
  const window = dialog(page, "Create model access key");
  const toggle = window.getByRole("switch", {
    name: "Enable batch inferencing for OpenAI and Anthropic text models",
  });
  await expect(toggle).toBeVisible();
  await window.getByRole("radio", { name: "Select models" }).check();
  await expect(toggle).toBeHidden();
  await expect(
    window.getByRole("checkbox", { name: "GPT-4o (OpenAI)", exact: true }),
  ).toBeVisible();
  await expect(window.getByText("(DigitalOcean)").first()).toBeVisible();
  await window.getByRole("radio", { name: "All models" }).check();
  await expect(toggle).toBeVisible();
  await expect(window.getByRole("button", { name: "Continue" })).toBeDisabled();
  await window
    .getByLabel("Access Key Name")
    .fill(uniqueName(stack, "vpc-check"));
  await window.getByRole("button", { name: "Continue" }).click();
  await expect(
    window.getByRole("radio", { name: "No VPC network" }),
  ).toBeChecked();
  await window.getByRole("radio", { name: "Custom team VPCs" }).check();
  await expect(
    window.getByText(
      "Resources in the VPC must enable the VPC-local DNS resolver",
    ),
  ).toBeVisible();

  const own = (await (
    await page.request.get(`${stack.apiUrl}/v2/vpcs`)
  ).json()) as {
    vpcs: { name: string }[];
  };
  const globex = await apiAs(playwright, stack, GINA);
  const foreign = (await (
    await globex.get(`${stack.apiUrl}/v2/vpcs`)
  ).json()) as {
    vpcs: { name: string }[];
  };
  const offered = await window
    .getByLabel("Team VPC", { exact: true })
    .locator("option")
    .allTextContents();
  expect(offered.map((o) => o.replace(/ \(.*\)$/, ""))).toEqual(
    own.vpcs.map((v) => v.name),
  );
  for (const v of foreign.vpcs) expect(offered.join("|")).not.toContain(v.name);
  await globex.dispose();
  await page.keyboard.press("Escape");
  await expect(window).toBeHidden();
});

test("a key created while the Team's keys tab is open appears under My keys", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  await selectTab(page, "Team's keys");
  const name = uniqueName(stack, "from-team-tab");
  const window = await createKeyInWindow(page, { name });
  await expect(page.getByRole("tab", { name: "My keys" })).toHaveAttribute(
    "aria-selected",
    "true",
  );
  const secret = await window.getByLabel("Secret key").inputValue();
  await closeSecretWindow(page, window, secret);
  await expect(row(page, name)).toBeVisible();
  await selectTab(page, "Team's keys");
  await expect(row(page, name)).toHaveCount(0);
});

test("Team's keys lists other members' keys with the creator's name", async ({
  page,
  stack,
  playwright,
}) => {
  const { name } = await createKeyAs(playwright, stack, MIA, "mias");
  await signIn(page, stack, OLGA);
  await expect(row(page, name)).toHaveCount(0);
  await selectTab(page, "Team's keys");
  const theirs = row(page, name);
  await expect(theirs).toBeVisible();
  await expect(theirs).toContainText("Mia Member");
  await expect(
    page.getByRole("columnheader", { name: "Creator" }),
  ).toBeVisible();
  await expect(menuButton(page, name)).toBeVisible();
});

test("owner renames a member's key and its secret keeps working", async ({
  page,
  stack,
  playwright,
}) => {
  const key = await createKeyAs(playwright, stack, MIA, "to-rename");
  await expectValidatorAllows(stack, key.secret);
  await signIn(page, stack, OLGA);
  await selectTab(page, "Team's keys");
  await openRowAction(page, key.name, "Rename");
  const window = dialog(page, "Rename model access key");
  await expect(window.getByLabel("Key name")).toHaveValue(key.name);
  await expect(window.getByRole("button", { name: "Update" })).toBeDisabled();
  const renamed = `${key.name}-renamed`;
  await window.getByLabel("Key name").fill(renamed);
  await window.getByRole("button", { name: "Update" }).click();
  await expect(window).toBeHidden();
  await expect(row(page, renamed)).toBeVisible();
  await expect(menuButton(page, renamed)).toBeFocused();
  await expect(
    page.getByText(`Key ${key.name} was renamed to ${renamed}.`),
  ).toBeVisible();
  await expectValidatorAllows(stack, key.secret);
});

test("owner regenerates a key: confirmation waits for the exact name; the old secret is denied, the new one allowed", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  const name = uniqueName(stack, "to-regenerate");
  const oldSecret = await createKeyWithWorkingSecret(page, stack, name);

  await openRowAction(page, name, "Regenerate");
  const window = dialog(page, "Regenerate model access key");
  await expect(window.getByText("There is no grace period.")).toBeVisible();
  const confirm = window.getByRole("button", { name: "Regenerate access key" });
  const field = window.getByLabel(CONFIRM_LABEL);
  for (const wrong of ["", name.toUpperCase(), `${name} `, name.slice(0, -1)]) {
    await field.fill(wrong);
    await expect(confirm).toBeDisabled();
  }
  await field.fill(name);
  await expect(confirm).toBeEnabled();
  await confirm.click();
  await expect(
    window.getByText("This secret is visible only once."),
  ).toBeVisible();
  const newSecret = await copySecret(page, window);
  expect(newSecret).not.toBe(oldSecret);
  await expect(revocationLine(window)).toContainText(
    /denied on [01] of 1 validators|No validators have reported yet/,
  );
  await expectRevokedOnEveryValidator(window);
  await expectValidatorDenies(stack, oldSecret);
  await expectValidatorAllows(stack, newSecret);
  await window.getByRole("button", { name: "Done" }).click();
  await expect(window).toBeHidden();
  await expect(menuButton(page, name)).toBeFocused();
  await expectSecretGone(page, newSecret);
  await expect(row(page, name)).toContainText(newSecret.slice(-4));
});

test("owner deletes a key and its secret is denied", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  const name = uniqueName(stack, "to-delete");
  const secret = await createKeyWithWorkingSecret(page, stack, name);

  await openRowAction(page, name, "Delete");
  const window = dialog(page, "Delete model access key");
  const confirm = window.getByRole("button", { name: "Delete access key" });
  await expect(confirm).toBeDisabled();
  await window.getByLabel(CONFIRM_LABEL).fill(name);
  await confirm.click();
  await expect(window.getByText(`The key ${name} was deleted`)).toBeVisible();
  await expect(window.getByRole("button", { name: "Done" })).toBeFocused();
  await expectRevokedOnEveryValidator(window);
  await expectValidatorDenies(stack, secret);
  await closeDeletedWindow(window);
  await expect(row(page, name)).toHaveCount(0);
  await expect(page.getByText(`Key ${name} was deleted.`)).toBeVisible();
});

test("owner regenerates and deletes legacy keys created by another member; scope is never offered", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  await selectTab(page, "Legacy keys");
  const toRegenerate = legacyKey(stack, "legacy-omar-regenerate");
  const legacyRow = row(page, toRegenerate);
  await expect(legacyRow).toContainText("All models");
  await expect(legacyRow).toContainText("No VPC network");
  await expect(legacyRow).toContainText("Omar Owner");
  await menuButton(page, toRegenerate).click();
  await expect(page.getByRole("menuitem")).toHaveText([
    "Rename",
    "Regenerate",
    "Delete",
  ]);
  await page.getByRole("menuitem", { name: "Regenerate" }).click();
  const window = await confirmInWindow(page, toRegenerate, "Regenerate");
  const secret = await copySecret(page, window);
  await expectValidatorAllows(stack, secret);
  await closeSecretWindow(page, window, secret);

  const toDelete = legacyKey(stack, "legacy-omar-delete");
  const deleteWindow = await confirmRowAction(page, toDelete, "Delete");
  await expectRevokedOnEveryValidator(deleteWindow);
  await closeDeletedWindow(deleteWindow);
  await expect(row(page, toDelete)).toHaveCount(0);
  await expect(row(page, toRegenerate)).toBeVisible();
});

test("Team's keys pages through more than one page, newest first", async ({
  page,
  stack,
  playwright,
}) => {
  const omar = await apiAs(playwright, stack, OMAR);
  const names: string[] = [];
  for (let i = 0; i < 21; i++) {
    const key = await createKeyViaApi(omar, stack, {
      name: uniqueName(stack, `page-${String(i).padStart(2, "0")}`),
      all_models: true,
    });
    names.push(key.name);
  }
  await omar.dispose();
  await signIn(page, stack, OLGA);
  await selectTab(page, "Team's keys");
  const panel = page.getByRole("tabpanel");
  await expect(panel.getByRole("rowheader")).toHaveCount(20);
  await expect(panel.getByRole("rowheader").first()).toHaveText(
    names[20] ?? "",
  );
  await expect(panel.getByText(/^Page 1 of \d+/)).toBeVisible();
  await expect(
    panel.getByRole("button", { name: "Previous page" }),
  ).toBeDisabled();
  await panel.getByRole("button", { name: "Next page" }).click();
  await expect(panel.getByText(/^Page 2 of \d+/)).toBeVisible();
  await expect(panel.getByRole("rowheader").first()).not.toHaveText(
    names[20] ?? "",
  );
  await panel.getByRole("button", { name: "Previous page" }).click();
  await expect(panel.getByText(/^Page 1 of \d+/)).toBeVisible();
});
