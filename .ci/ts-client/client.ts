// Uses the generated types the way a front end would: if the document's operation ids, schemas or
// responses cannot be expressed in TypeScript, or two operations collide, this does not type-check.
import type { components, operations, paths } from "./schema";

type CaseResponse = components["schemas"]["CaseResponse"];
type Problem = components["schemas"]["Problem"];
type ListCases = operations["listCases"];
type CreateCase = operations["createCase"];
type GetReport = operations["getReport"];

export function describe(c: CaseResponse): string {
  return `${c.tracking_number} ${c.state} due ${c.deadline.final_due_on ?? "-"}`;
}

export function problemText(p: Problem): string {
  return `${p.status} ${p.title}: ${p.detail}`;
}

export type CaseListBody = ListCases["responses"][200]["content"]["application/json"];
export type NewCase = CreateCase["requestBody"]["content"]["application/json"];
export type ReportQuery = GetReport["parameters"]["query"];
export type CasePath = paths["/api/v1/cases/{id}"]["get"]["parameters"]["path"];

export function firstNumbers(list: CaseListBody): string[] {
  return list.items.map((c) => c.tracking_number);
}
