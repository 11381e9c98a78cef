// Every window driven by the keyboard alone: Tab to reach controls, Enter and Space to use
// them, Escape to close; focus stays inside an open window and returns to its opener.

import {
  CONFIRM_LABEL,
  OLGA,
  dialog,
  expect,
  expectSecretGone,
  expectValidatorAllows,
  grantClipboardInEachTest,
  legacyKey,
  menuButton,
  row,
  signIn,
  tabTo,
  test,
  uniqueName,
} from "./fixtures";
import type { Locator, Page } from "@playwright/test";

grantClipboardInEachTest();

async function typeText(page: Page, text: string): Promise<void> {
  await page.keyboard.type(text);
}

async function createByKeyboard(page: Page, name: string): Promise<Locator> {
  const create = page.getByRole("button", { name: "Create model access key" });
  await tabTo(page, create);
  await page.keyboard.press("Enter");
  const window = dialog(page, "Create model access key");
  await expect(window.getByLabel("Access Key Name")).toBeFocused();
  await typeText(page, name);
  // Enter in the name field continues (the form's submit button is Continue).
  await page.keyboard.press("Enter");
  await expect(
    window.getByRole("radio", { name: "No VPC network" }),
  ).toBeFocused();
  await tabTo(
    page,
    window.getByRole("button", { name: "Add model access key" }),
  );
  await page.keyboard.press("Enter");
  await expect(
    window.getByRole("button", { name: "Copy secret" }),
  ).toBeFocused();
  return window;
}

// Creates a key by keyboard and closes its secret window with Escape.
async function addKeyByKeyboard(page: Page, name: string): Promise<void> {
  const window = await createByKeyboard(page, name);
  await page.keyboard.press("Escape");
  await expect(window).toBeHidden();
}

test("the create window works by keyboard alone and focus returns to its button", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  const name = uniqueName(stack, "keyboard-create");
  const window = await createByKeyboard(page, name);
  await page.keyboard.press("Space");
  await expect(window.getByText("Copied to the clipboard.")).toBeVisible();
  const secret = await page.evaluate(() => navigator.clipboard.readText());
  await expectValidatorAllows(stack, secret);
  await page.keyboard.press("Escape");
  await expect(window).toBeHidden();
  await expect(
    page.getByRole("button", { name: "Create model access key" }),
  ).toBeFocused();
  await expectSecretGone(page, secret);
  await expect(row(page, name)).toBeVisible();
});

test("the create window's choices work by keyboard: Select models, search, Space to pick, Back", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  await tabTo(
    page,
    page.getByRole("button", { name: "Create model access key" }),
  );
  await page.keyboard.press("Enter");
  const window = dialog(page, "Create model access key");
  await typeText(page, uniqueName(stack, "keyboard-select"));
  await tabTo(page, window.getByRole("radio", { name: "All models" }));
  await page.keyboard.press("ArrowRight");
  await expect(
    window.getByRole("radio", { name: "Select models" }),
  ).toBeChecked();
  await expect(window.getByRole("switch")).toHaveCount(0);
  await tabTo(page, window.getByLabel("Search models"));
  await typeText(page, "haiku");
  // Enter in the search field does not submit the window.
  await page.keyboard.press("Enter");
  await expect(window.getByLabel("Search models")).toBeVisible();
  const haiku = window.getByRole("checkbox", {
    name: "Claude 3.5 Haiku (Anthropic)",
  });
  await tabTo(page, haiku);
  await page.keyboard.press("Space");
  await expect(haiku).toBeChecked();
  await tabTo(page, window.getByRole("button", { name: "Continue" }));
  await page.keyboard.press("Enter");
  await tabTo(page, window.getByRole("button", { name: "Back" }));
  await page.keyboard.press("Enter");
  await expect(window.getByLabel("Access Key Name")).toBeFocused();
  await expect(haiku).toBeChecked();
  await page.keyboard.press("Escape");
  await expect(window).toBeHidden();
  await expect(
    page.getByRole("button", { name: "Create model access key" }),
  ).toBeFocused();
});

test("Tab and Shift+Tab stay inside an open window", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  await page.getByRole("button", { name: "Create model access key" }).click();
  const window = dialog(page, "Create model access key");
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press("Tab");
    expect(
      await window.evaluate((d) => d.contains(document.activeElement)),
    ).toBe(true);
  }
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press("Shift+Tab");
    expect(
      await window.evaluate((d) => d.contains(document.activeElement)),
    ).toBe(true);
  }
  await page.keyboard.press("Escape");
});

test("tabs are reached by Tab and switched by Enter and the arrow keys", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  const legacy = page.getByRole("tab", { name: "Legacy keys" });
  await tabTo(page, legacy);
  await page.keyboard.press("Enter");
  await expect(legacy).toHaveAttribute("aria-selected", "true");
  await page.keyboard.press("ArrowRight");
  await expect(page.getByRole("tab", { name: "Team's keys" })).toBeFocused();
  await expect(page.getByRole("tab", { name: "Team's keys" })).toHaveAttribute(
    "aria-selected",
    "true",
  );
  await page.keyboard.press("Home");
  await expect(page.getByRole("tab", { name: "My keys" })).toHaveAttribute(
    "aria-selected",
    "true",
  );
});

test("the models tooltip opens on keyboard focus and Escape hides it", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  const name = uniqueName(stack, "keyboard-tooltip");
  await addKeyByKeyboard(page, name);
  const models = row(page, name).getByRole("button", { name: "All models" });
  await tabTo(page, models);
  await expect(page.getByRole("tooltip")).toBeVisible();
  await expect(models).toHaveAccessibleDescription(/Models this key can call/);
  await page.keyboard.press("Escape");
  await expect(page.getByRole("tooltip")).toHaveCount(0);
});

test("rename, regenerate and delete work by keyboard alone, and focus returns to the row's menu", async ({
  page,
  stack,
}) => {
  await signIn(page, stack, OLGA);
  const name = uniqueName(stack, "keyboard-row");
  await addKeyByKeyboard(page, name);

  // Rename: Enter opens the menu on its first item.
  await tabTo(page, menuButton(page, name));
  await page.keyboard.press("Enter");
  await expect(page.getByRole("menuitem", { name: "Rename" })).toBeFocused();
  await page.keyboard.press("Enter");
  const rename = dialog(page, "Rename model access key");
  await expect(rename.getByLabel("Key name")).toBeFocused();
  const renamed = `${name}-r`;
  await page.keyboard.press("End");
  await typeText(page, "-r");
  await page.keyboard.press("Enter");
  await expect(rename).toBeHidden();
  await expect(menuButton(page, renamed)).toBeFocused();

  // Escape closes the menu and each window, returning focus.
  await page.keyboard.press("ArrowDown");
  await expect(page.getByRole("menuitem", { name: "Rename" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("menu")).toHaveCount(0);
  await expect(menuButton(page, renamed)).toBeFocused();

  // Regenerate: Space opens the menu, ArrowDown moves to Regenerate.
  await page.keyboard.press("Space");
  await page.keyboard.press("ArrowDown");
  await expect(
    page.getByRole("menuitem", { name: "Regenerate" }),
  ).toBeFocused();
  await page.keyboard.press("Enter");
  const regenerate = dialog(page, "Regenerate model access key");
  await expect(regenerate.getByLabel(CONFIRM_LABEL)).toBeFocused();
  await typeText(page, renamed);
  await page.keyboard.press("Enter");
  await expect(
    regenerate.getByRole("button", { name: "Copy secret" }),
  ).toBeFocused();
  const secret = await regenerate.getByLabel("Secret key").inputValue();
  await page.keyboard.press("Escape");
  await expect(regenerate).toBeHidden();
  await expect(menuButton(page, renamed)).toBeFocused();
  await expectSecretGone(page, secret);

  // Delete: End moves to the last item. The row is gone afterwards, so focus goes to the tab.
  await page.keyboard.press("Enter");
  await page.keyboard.press("End");
  await expect(page.getByRole("menuitem", { name: "Delete" })).toBeFocused();
  await page.keyboard.press("Enter");
  const remove = dialog(page, "Delete model access key");
  await page.keyboard.press("Escape");
  await expect(remove).toBeHidden();
  await expect(menuButton(page, renamed)).toBeFocused();
  await page.keyboard.press("ArrowUp");
  await expect(page.getByRole("menuitem", { name: "Delete" })).toBeFocused();
  await page.keyboard.press("Enter");
  await typeText(page, renamed);
  await tabTo(page, remove.getByRole("button", { name: "Delete access key" }));
  await page.keyboard.press("Space");
  // The window says the key was deleted, with the receipt line; Done has the focus.
  await expect(remove.getByRole("button", { name: "Done" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(remove).toBeHidden();
  await expect(row(page, renamed)).toHaveCount(0);
  await expect(page.getByRole("tab", { name: "My keys" })).toBeFocused();
});

test("a legacy key's windows work by keyboard too", async ({ page, stack }) => {
  await signIn(page, stack, OLGA);
  const name = legacyKey(stack, "legacy-olga-keyboard");
  const legacyTab = page.getByRole("tab", { name: "Legacy keys" });
  await tabTo(page, legacyTab);
  await page.keyboard.press("Enter");
  await expect(page.getByRole("tabpanel")).toHaveAttribute(
    "aria-busy",
    "false",
  );
  await tabTo(page, menuButton(page, name));
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  const regenerate = dialog(page, "Regenerate model access key");
  await typeText(page, name);
  await page.keyboard.press("Enter");
  await expect(
    regenerate.getByRole("button", { name: "Copy secret" }),
  ).toBeFocused();
  await page.keyboard.press("Enter");
  const secret = await page.evaluate(() => navigator.clipboard.readText());
  await expectValidatorAllows(stack, secret);
  await tabTo(page, regenerate.getByRole("button", { name: "Done" }));
  await page.keyboard.press("Enter");
  await expect(regenerate).toBeHidden();
  await expect(menuButton(page, name)).toBeFocused();
  await expectSecretGone(page, secret);
});
