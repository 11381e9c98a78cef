// "Create model access key": step 1 the name and the foundation models (all, with the optional
// batch toggle, or a searchable selection), step 2 the VPC network (none, or one of the team's)
// and when the key expires (never, or after a lifetime), then the new secret, shown once.

import type {
  ApiKeyInfo,
  CatalogModel,
  CommandResult,
  ConsoleApi,
  CreateKeyRequest,
  Vpc,
} from "./api";
import { CommandGate } from "./command";
import {
  ErrorSlot,
  Modal,
  actionsRow,
  closeWindowButton,
  dialogForm,
  submitButton,
  type WindowContext,
} from "./dialog";
import { button, el, uniqueId } from "./dom";
import { LIFETIME_CHOICES, expiresAtAfter } from "./expiry";
import type { IdempotencyKeys } from "./idempotency";
import { KeyNameField } from "./key_name_field";
import { ModelPicker } from "./model_picker";
import { catalogOptions } from "./models";
import { normalizeKeyName } from "./rules";
import { showSecretInWindow, type ClipboardWriter } from "./secret_panel";

export const BATCH_TOGGLE_LABEL =
  "Enable batch inferencing for OpenAI and Anthropic text models";
export const VPC_DNS_WARNING =
  "Resources in the VPC must enable the VPC-local DNS resolver to reach the inference endpoint; requests from outside the VPC are refused with this key.";
export const EXPIRY_HINT =
  "The key stops working at that time, and its expiry cannot be changed later. Where the operator limits how long keys live, a longer expiry is refused and Never gives the longest lifetime allowed.";

export interface CreateWindowOptions {
  api: Pick<ConsoleApi, "createKey">;
  // null when the catalog could not be loaded (catalogError says why).
  catalog: CatalogModel[] | null;
  catalogError?: string | null;
  // The caller's team's VPCs; null when they could not be loaded (vpcsError says why).
  vpcs: Vpc[] | null;
  vpcsError?: string | null;
  context: WindowContext;
  onCreated: (key: ApiKeyInfo) => void;
  clipboard?: ClipboardWriter | null;
  idempotency?: IdempotencyKeys;
  // The clock the expiry is counted from (tests pass theirs).
  now?: () => Date;
}

interface Radio {
  input: HTMLInputElement;
  element: HTMLLabelElement;
}

function radio(
  name: string,
  value: string,
  label: string,
  checked: boolean,
): Radio {
  const input = el("input", { type: "radio", name, value, checked });
  return {
    input,
    element: el("label", { class: "choice" }, input, el("span", {}, label)),
  };
}

// A set of radio buttons under a legend, with a note after them (why a choice is disabled).
function choiceGroup(
  legend: string,
  radios: Radio[],
  note: HTMLElement,
): HTMLFieldSetElement {
  return el(
    "fieldset",
    { class: "field" },
    el("legend", { class: "field-label" }, legend),
    el(
      "div",
      { class: "choices" },
      radios.map((r) => r.element),
    ),
    note,
  );
}

// The create request the window's inputs describe. Batch is sent only with all models; models
// only without; expires_at only for a key that expires.
export function createRequest(input: {
  name: string;
  allModels: boolean;
  models: string[];
  batch: boolean;
  vpcUuid: string | null;
  expiresAt: string | null;
}): CreateKeyRequest {
  const name = normalizeKeyName(input.name);
  const expiry =
    input.expiresAt === null ? {} : { expires_at: input.expiresAt };
  return input.allModels
    ? {
        name,
        all_models: true,
        batch_inference: input.batch,
        vpc_uuid: input.vpcUuid,
        ...expiry,
      }
    : {
        name,
        all_models: false,
        models: input.models,
        vpc_uuid: input.vpcUuid,
        ...expiry,
      };
}

export function openCreateWindow(options: CreateWindowOptions): Modal {
  const modal = new Modal("Create model access key", options.context);
  const group = uniqueId("create");

  // Step 1: name and models.
  const nameField = new KeyNameField({
    label: "Access Key Name",
    onInput: updateSteps,
  });

  const allModels = radio(`${group}-models`, "all", "All models", true);
  const selectModels = radio(
    `${group}-models`,
    "select",
    "Select models",
    false,
  );
  const catalog = options.catalog;
  const picker = catalog
    ? new ModelPicker(catalogOptions(catalog), () => {
        updateSteps();
      })
    : null;
  const catalogNote = el(
    "p",
    { class: "field-problem" },
    catalog
      ? ""
      : (options.catalogError ?? "The model catalog is not available."),
  );
  catalogNote.hidden = catalog !== null;
  if (!picker) selectModels.input.disabled = true;
  const pickerBox = el("div", { class: "subfield" }, picker?.element);
  pickerBox.hidden = true;

  const batchId = uniqueId("batch");
  const batchHintId = uniqueId("batch-hint");
  const batch = el("input", {
    id: batchId,
    type: "checkbox",
    role: "switch",
    class: "switch",
    "aria-describedby": batchHintId,
  });
  const batchBox = el(
    "div",
    { class: "subfield switch-field" },
    batch,
    el("label", { for: batchId }, BATCH_TOGGLE_LABEL),
    el(
      "p",
      { id: batchHintId, class: "field-hint" },
      "Lets the key call the batch endpoints of the batch-capable models. Available only with All models.",
    ),
  );

  const cancel = closeWindowButton("Cancel", modal);
  const continueButton = submitButton("Continue");
  const step1 = dialogForm(
    el("p", { class: "step" }, "Step 1 of 2: name and models"),
    nameField.element,
    choiceGroup("Foundation models", [allModels, selectModels], catalogNote),
    pickerBox,
    batchBox,
    actionsRow(cancel, continueButton),
  );

  // Step 2: VPC network.
  const vpcs = options.vpcs ?? [];
  const noVpc = radio(`${group}-vpc`, "none", "No VPC network", true);
  const customVpc = radio(`${group}-vpc`, "custom", "Custom team VPCs", false);
  const vpcNote = el("p", { class: "field-hint" });
  if (options.vpcs === null) {
    vpcNote.textContent =
      options.vpcsError ?? "Your team's VPC networks are not available.";
  } else if (vpcs.length === 0) {
    vpcNote.textContent = "Your team has no VPC networks.";
  }
  vpcNote.hidden = vpcNote.textContent === "";
  customVpc.input.disabled = vpcs.length === 0;
  const vpcSelectId = uniqueId("vpc");
  const vpcWarningId = uniqueId("vpc-warning");
  const vpcSelect = el(
    "select",
    { id: vpcSelectId, class: "select", "aria-describedby": vpcWarningId },
    vpcs.map((v) =>
      el(
        "option",
        { value: v.id },
        v.region ? `${v.name} (${v.region})` : v.name,
      ),
    ),
  );
  const vpcBox = el(
    "div",
    { class: "subfield" },
    el("label", { for: vpcSelectId, class: "field-label" }, "Team VPC"),
    vpcSelect,
    el(
      "p",
      { class: "warning", id: vpcWarningId },
      el("strong", {}, "VPC-local DNS: "),
      VPC_DNS_WARNING,
    ),
  );
  vpcBox.hidden = true;

  // Expiry: the select's values are the lifetimes' days ("" for Never).
  const expirySelectId = uniqueId("expiry");
  const expiryHintId = uniqueId("expiry-hint");
  const expirySelect = el(
    "select",
    {
      id: expirySelectId,
      class: "select",
      "aria-describedby": expiryHintId,
    },
    LIFETIME_CHOICES.map((choice) =>
      el(
        "option",
        { value: choice.days === null ? "" : String(choice.days) },
        choice.label,
      ),
    ),
  );
  const expiryField = el(
    "div",
    { class: "field" },
    el("label", { for: expirySelectId, class: "field-label" }, "Expires"),
    expirySelect,
    el("p", { id: expiryHintId, class: "field-hint" }, EXPIRY_HINT),
  );
  // The instant is fixed the first time a lifetime is sent, so that a retry from this window
  // sends the very same request (and so the same Idempotency-Key).
  const expiryInstants = new Map<number, string>();
  const now = options.now ?? (() => new Date());
  const expiresAt = (): string | null => {
    if (expirySelect.value === "") return null;
    const days = Number(expirySelect.value);
    let instant = expiryInstants.get(days);
    if (instant === undefined) {
      instant = expiresAtAfter(days, now());
      expiryInstants.set(days, instant);
    }
    return instant;
  };

  const error = new ErrorSlot();
  const back = button(
    "Back",
    () => {
      showStep(1);
    },
    { class: "button" },
  );
  const add = submitButton("Add model access key");
  const step2 = dialogForm(
    el("p", { class: "step" }, "Step 2 of 2: VPC network and expiry"),
    choiceGroup("VPC Network", [noVpc, customVpc], vpcNote),
    vpcBox,
    expiryField,
    error.element,
    actionsRow(back, add),
  );
  step2.hidden = true;

  const modelsReady = (): boolean =>
    allModels.input.checked ||
    (picker !== null && picker.selectedIds().length > 0);
  const step1Ready = (): boolean => nameField.isValid() && modelsReady();
  const vpcUuid = (): string | null =>
    customVpc.input.checked && vpcSelect.value !== "" ? vpcSelect.value : null;
  const step2Ready = (): boolean =>
    !customVpc.input.checked || vpcUuid() !== null;
  const gate = new CommandGate(modal, {
    submit: add,
    heldWhileSending: [back],
    error,
    ready: () => step1Ready() && step2Ready(),
    idempotency: options.idempotency,
  });

  function updateSteps(): void {
    const all = allModels.input.checked;
    pickerBox.hidden = all;
    batchBox.hidden = !all;
    // Batch only with all models: never keep it on for a selection.
    if (!all) batch.checked = false;
    vpcBox.hidden = !customVpc.input.checked;
    continueButton.disabled = !step1Ready();
    gate.update();
  }

  function showStep(step: 1 | 2): void {
    step1.hidden = step !== 1;
    step2.hidden = step !== 2;
    if (step === 1) nameField.input.focus();
    else (customVpc.input.checked ? customVpc.input : noVpc.input).focus();
  }

  for (const input of [
    allModels.input,
    selectModels.input,
    noVpc.input,
    customVpc.input,
  ]) {
    input.addEventListener("change", updateSteps);
  }
  vpcSelect.addEventListener("change", updateSteps);

  step1.addEventListener("submit", (event) => {
    event.preventDefault();
    if (step1Ready()) showStep(2);
  });
  step2.addEventListener("submit", (event) => {
    event.preventDefault();
    const request = createRequest({
      name: nameField.value,
      allModels: allModels.input.checked,
      models: picker?.selectedIds() ?? [],
      batch: batch.checked,
      vpcUuid: vpcUuid(),
      expiresAt: expiresAt(),
    });
    void gate
      .run<CommandResult>("create", request, (idempotencyKey) =>
        options.api.createKey(request, idempotencyKey),
      )
      .then((outcome) => {
        if (!outcome.ok) return;
        const result = outcome.value;
        showSecretInWindow(
          modal,
          result.secret,
          `Key ${result.key.name} was created`,
          options.clipboard,
        );
        options.onCreated(result.key);
      });
  });

  modal.body.append(step1, step2);
  updateSteps();
  modal.open(nameField.input);
  return modal;
}
