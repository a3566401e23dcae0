/**
 * Message kind of each public training row: Banking77 and CLINC150 intents -> kind by hand (this table), GSM8K ->
 * maths, MMLU -> maths for its mathematics and statistics subjects, analysis for the others. The line between `faq`
 * and `account` follows one question: is the customer asking about their own card, order, booking or money (account),
 * or about how things work in general (faq)? Assistant commands (timers, music, settings) are simple requests: faq.
 */
import type { LearntKind } from '../../src/llm/routing/message-kinds';

const BANKING77_ACCOUNT = new Set([
  'Refund_not_showing_up',
  'activate_my_card',
  'balance_not_updated_after_bank_transfer',
  'balance_not_updated_after_cheque_or_cash_deposit',
  'beneficiary_not_allowed',
  'cancel_transfer',
  'card_about_to_expire',
  'card_arrival',
  'card_linking',
  'card_not_working',
  'card_payment_fee_charged',
  'card_payment_not_recognised',
  'card_payment_wrong_exchange_rate',
  'card_swallowed',
  'cash_withdrawal_charge',
  'cash_withdrawal_not_recognised',
  'change_pin',
  'compromised_card',
  'contactless_not_working',
  'declined_card_payment',
  'declined_cash_withdrawal',
  'declined_transfer',
  'direct_debit_payment_not_recognised',
  'edit_personal_details',
  'extra_charge_on_statement',
  'failed_transfer',
  'get_physical_card',
  'lost_or_stolen_card',
  'lost_or_stolen_phone',
  'order_physical_card',
  'passcode_forgotten',
  'pending_card_payment',
  'pending_cash_withdrawal',
  'pending_top_up',
  'pending_transfer',
  'pin_blocked',
  'request_refund',
  'reverted_card_payment?',
  'terminate_account',
  'top_up_failed',
  'top_up_reverted',
  'transaction_charged_twice',
  'transfer_fee_charged',
  'transfer_not_received_by_recipient',
  'unable_to_verify_identity',
  'virtual_card_not_working',
  'wrong_amount_of_cash_received',
  'wrong_exchange_rate_for_cash_withdrawal',
]);

const CLINC_GREETING = new Set([
  'greeting',
  'goodbye',
  'thank_you',
  'are_you_a_bot',
  'what_is_your_name',
  'how_old_are_you',
  'who_made_you',
  'where_are_you_from',
  'what_are_your_hobbies',
  'do_you_have_pets',
  'meaning_of_life',
  'tell_joke',
  'fun_fact',
  'who_do_you_work_for',
  'what_can_i_ask_you',
  'yes',
  'no',
  'maybe',
  'repeat',
  'cancel',
  'user_name',
]);

const CLINC_ACCOUNT = new Set([
  'account_blocked',
  'application_status',
  'balance',
  'bill_balance',
  'bill_due',
  'book_flight',
  'book_hotel',
  'cancel_reservation',
  'car_rental',
  'card_declined',
  'confirm_reservation',
  'credit_limit',
  'credit_limit_change',
  'credit_score',
  'damaged_card',
  'direct_deposit',
  'expiration_date',
  'flight_status',
  'freeze_account',
  'income',
  'insurance',
  'insurance_change',
  'lost_luggage',
  'min_payment',
  'new_card',
  'order',
  'order_checks',
  'order_status',
  'pay_bill',
  'payday',
  'pin_change',
  'pto_balance',
  'pto_request',
  'pto_request_status',
  'pto_used',
  'redeem_rewards',
  'replacement_card_duration',
  'report_fraud',
  'report_lost_card',
  'restaurant_reservation',
  'rewards_balance',
  'rollover_401k',
  'routing',
  'spending_history',
  'taxes',
  'transactions',
  'transfer',
  'travel_notification',
  'w2',
]);

const CLINC_MATHS = new Set(['calculator']);

const MMLU_MATHS = new Set([
  'abstract_algebra',
  'college_mathematics',
  'elementary_mathematics',
  'high_school_mathematics',
  'high_school_statistics',
]);

/** The kind of a Banking77 intent. */
export function banking77Kind(intent: string): LearntKind {
  return BANKING77_ACCOUNT.has(intent) ? 'account' : 'faq';
}

/** The kind of a CLINC150 intent (`oos`, out of scope, is a general question: faq). */
export function clinc150Kind(intent: string): LearntKind {
  if (CLINC_GREETING.has(intent)) return 'greeting';
  if (CLINC_ACCOUNT.has(intent)) return 'account';
  if (CLINC_MATHS.has(intent)) return 'maths';
  return 'faq';
}

/** The kind of an MMLU subject. */
export function mmluKind(subject: string): LearntKind {
  return MMLU_MATHS.has(subject) ? 'maths' : 'analysis';
}
