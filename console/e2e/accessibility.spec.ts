// Each tab and window at 1280x800 and 390x844: no serious or critical axe violation, nothing
// wider than the screen, and a screenshot for console/README.md (docs/screenshots/*.png).

import type { Page } from "@playwright/test";
import {
  CONFIRM_LABEL,
  MIA,
  OLGA,
  OMAR,
  apiAs,
  closeDeletedWindow,
  closeSecretWindow,
  createKeyViaApi,
  dialog,
  expect,
  expectNoHorizontalScroll,
  expectNoSeriousA11yViolations,
  expectRevokedOnEveryValidator,
  KEYS_PATH,
  menuButton,
  openConsole,
  openRowAction,
  screenshot,
  selectTab,
  signIn,
  test,
  uniqueName,
  type Requests,
} from "./fixtures";
import type { StackState } from "./stack";

const VIEWPORTS = [
  { label: "1280", width: 1280, height: 800 },
  { label: "390", width: 390, height: 844 },
] as const;

// Keys for the pictures: some of Olga's, some of Omar's and Mia's (Team's keys). Once per stack.
async function seed(playwright: Requests, stack: StackState): Promise<void> {
  const olga = await apiAs(playwright, stack, OLGA);
  const mine = await olga.get(
    `${stack.apiUrl}${KEYS_PATH}?view=mine&per_page=200`,
  );
  const listed = (await mine.json()) as { api_key_infos: { name: string }[] };
  if (listed.api_key_infos.some((k) => k.name === "support-chatbot")) {
    await olga.dispose();
    return;
  }
  const vpcAnswer = await olga.get(`${stack.apiUrl}/v2/vpcs`);
  const vpcs = ((await vpcAnswer.json()) as { vpcs: { id: string }[] }).vpcs;
  await createKeyViaApi(olga, stack, {
    name: "support-chatbot",
    all_models: false,
    models: [
      "openai-gpt-4o",
      "anthropic-claude-3.5-haiku",
      "alibaba-qwen3-32b",
    ],
    vpc_uuid: vpcs[0]?.id ?? null,
  });
  await createKeyViaApi(olga, stack, {
    name: "nightly-batch-jobs",
    all_models: true,
    batch_inference: true,
  });
  await olga.dispose();
  const omar = await apiAs(playwright, stack, OMAR);
  await createKeyViaApi(omar, stack, {
    name: "search-reranker",
    all_models: true,
  });
  await omar.dispose();
  const mia = await apiAs(playwright, stack, MIA);
  await createKeyViaApi(mia, stack, {
    name: "mia-notebook",
    all_models: false,
    models: ["openai-gpt-4o-mini"],
  });
  await mia.dispose();
}

async function check(page: Page, what: string, file: string): Promise<void> {
  await expectNoSeriousA11yViolations(page, what);
  await expectNoHorizontalScroll(page);
  await screenshot(page, file);
}

for (const viewport of VIEWPORTS) {
  test.describe(`at ${String(viewport.width)}x${String(viewport.height)}`, () => {
    test.use({ viewport: { width: viewport.width, height: viewport.height } });

    test(`sign-in view (${viewport.label})`, async ({ page, stack }) => {
      await openConsole(page, stack);
      await expect(
        page.getByRole("heading", { name: "Sign in" }),
      ).toBeVisible();
      await check(page, "the sign-in view", `sign-in-${viewport.label}`);
    });

    test(`owner's tabs (${viewport.label})`, async ({
      page,
      stack,
      playwright,
    }) => {
      await seed(playwright, stack);
      await signIn(page, stack, OLGA);
      await check(page, "My keys", `my-keys-${viewport.label}`);
      await selectTab(page, "Legacy keys");
      await check(page, "Legacy keys", `legacy-keys-${viewport.label}`);
      await selectTab(page, "Team's keys");
      await check(page, "Team's keys", `teams-keys-${viewport.label}`);
      await selectTab(page, "My keys");
      await page
        .getByRole("button", { name: "All models Batch Inference" })
        .first()
        .hover();
      await expect(page.getByRole("tooltip")).toBeVisible();
      await check(
        page,
        "the models tooltip",
        `models-tooltip-${viewport.label}`,
      );
    });

    test(`member's tabs (${viewport.label})`, async ({
      page,
      stack,
      playwright,
    }) => {
      await seed(playwright, stack);
      await signIn(page, stack, MIA);
      await check(
        page,
        "a member's My keys",
        `member-my-keys-${viewport.label}`,
      );
      await selectTab(page, "Legacy keys");
      await check(
        page,
        "a member's Legacy keys",
        `member-legacy-keys-${viewport.label}`,
      );
    });

    test(`windows (${viewport.label})`, async ({ page, stack, playwright }) => {
      await seed(playwright, stack);
      await signIn(page, stack, OLGA);

      await page
        .getByRole("button", { name: "Create model access key" })
        .click();
      const create = dialog(page, "Create model access key");
      const name = uniqueName(stack, "pictured");
      await create.getByLabel("Access Key Name").fill(name);
      await check(
        page,
        "the create window, step 1",
        `create-step1-${viewport.label}`,
      );
      await create.getByRole("radio", { name: "Select models" }).check();
      await create.getByLabel("Search models").fill("claude");
      await create
        .getByRole("checkbox", { name: "Claude Sonnet 4 (Anthropic)" })
        .check();
      await create.getByLabel("Search models").fill("");
      await check(
        page,
        "the create window, selecting models",
        `create-models-${viewport.label}`,
      );
      await create.getByRole("button", { name: "Continue" }).click();
      await create.getByRole("radio", { name: "Custom team VPCs" }).check();
      await check(
        page,
        "the create window, step 2",
        `create-step2-${viewport.label}`,
      );
      await create
        .getByRole("button", { name: "Add model access key" })
        .click();
      const secretField = create.getByLabel("Secret key");
      await expect(secretField).toBeVisible();
      const secret = await secretField.inputValue();
      await expectNoSeriousA11yViolations(page, "the new secret");
      await expectNoHorizontalScroll(page);
      await screenshot(page, `create-secret-${viewport.label}`, [secretField]);
      await closeSecretWindow(page, create, secret);

      await menuButton(page, name).click();
      await expect(page.getByRole("menu")).toBeVisible();
      await check(page, "the row menu", `row-menu-${viewport.label}`);
      await page.getByRole("menuitem", { name: "Rename" }).click();
      await check(page, "the rename window", `rename-${viewport.label}`);
      await page.keyboard.press("Escape");

      await openRowAction(page, name, "Regenerate");
      const regenerate = dialog(page, "Regenerate model access key");
      await regenerate.getByLabel(CONFIRM_LABEL).fill(name);
      await check(
        page,
        "the regenerate window",
        `regenerate-${viewport.label}`,
      );
      await regenerate
        .getByRole("button", { name: "Regenerate access key" })
        .click();
      const newField = regenerate.getByLabel("Secret key");
      await expect(newField).toBeVisible();
      const newSecret = await newField.inputValue();
      await expectRevokedOnEveryValidator(regenerate);
      await expectNoSeriousA11yViolations(page, "the regenerated secret");
      await screenshot(page, `regenerate-secret-${viewport.label}`, [newField]);
      await closeSecretWindow(page, regenerate, newSecret);

      await openRowAction(page, name, "Delete");
      const remove = dialog(page, "Delete model access key");
      await remove.getByLabel(CONFIRM_LABEL).fill(name.slice(0, 5));
      await check(page, "the delete window", `delete-${viewport.label}`);
      await remove.getByLabel(CONFIRM_LABEL).fill(name);
      await remove.getByRole("button", { name: "Delete access key" }).click();
      await expectRevokedOnEveryValidator(remove);
      await check(page, "the deleted key", `delete-done-${viewport.label}`);
      await closeDeletedWindow(remove);
    });
  });
}
