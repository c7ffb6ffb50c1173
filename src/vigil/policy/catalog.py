"""Well-known identifiers conditional access refers to by name.

* ``Office365``: the app suite documented in "Apps included in Conditional Access Office 365
  app suite" (entra-docs reference-office-365-application-contents.md, 2024-12-06). That page
  lists display names only; :data:`OFFICE365_APP_IDS` holds the first-party app ids we know for
  those names, and :data:`OFFICE365_APP_NAMES` the documented names, so an app matches the
  suite by id or, when its id is not in our table, by its documented display name.
* ``MicrosoftAdminPortals``: the admin portals listed in concept-conditional-access-cloud-apps.
* Built-in directory role template ids (roles are referenced by template id in policies; the
  IdentityInfo table holds role display names).
* Built-in authentication strengths (ids ...0002/0003/0004) and their allowed combinations.
"""
from __future__ import annotations

OFFICE365 = "Office365"
ADMIN_PORTALS = "MicrosoftAdminPortals"

OFFICE365_APP_IDS: dict[str, str] = {
    "00000002-0000-0ff1-ce00-000000000000": "Office 365 Exchange Online",
    "00000003-0000-0ff1-ce00-000000000000": "Office 365 SharePoint Online",
    "00000004-0000-0ff1-ce00-000000000000": "Skype for Business Online",
    "00000005-0000-0ff1-ce00-000000000000": "Viva Engage",  # formerly Yammer
    "00000006-0000-0ff1-ce00-000000000000": "Microsoft Office 365 Portal",
    "1fec8e78-bce4-4aaf-ab1b-5451cc387264": "Microsoft Teams",
    "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe": "Microsoft Teams Services",
    "5e3ce6c0-2b1f-4285-8d4b-75ee78787346": "Microsoft Teams Web Client",
    "d3590ed6-52b3-4102-aeff-aad2292ab01c": "Microsoft Office",
    "4765445b-32c6-49b0-83e6-1d93765276ca": "OfficeHome",
    "c9a559d2-7aab-4f13-a6ed-e7e9c52aec87": "Microsoft Forms",
    "09abbdfd-ed23-44ee-a2d9-a627aa1c90f3": "ProjectWorkManagement",
    "cf53fce8-def6-4aeb-8d30-b158e7b1cf83": "Microsoft Stream Portal",
    "94c63fef-13a3-47bc-8074-75af8c65887a": "Office Delve",
    "ab9b8c07-8f02-4f72-87fa-80105867a763": "OneDrive SyncEngine",
    "b26aadf8-566f-4478-926f-589f601d9c74": "OneDrive",
    "905fcf26-4eb7-48a0-9ff0-8dcc7194b5ba": "Sway",
    "475226c6-020e-4fb2-8a90-7a972cbfc1d4": "PowerApps Service",
    "66a88757-258c-4c72-893c-3e8bed4d6899": "Office 365 Search Service",
    "4345a7b9-9a63-4910-a426-35363201d503": "O365 Suite UX",
    "89bee1f7-5e6e-4d8a-9f3d-ecd601259da7": "Office365 Shell WCSS-Client",
    "08e18876-6177-487e-b8b5-cf950c1e598c": "SharePoint Online Web Client Extensibility",
    "9199bf20-a13f-4107-85dc-02114787ef48": "One Outlook Web",
    "95de633a-083e-42f5-b444-a4295d8e9314": "Microsoft Whiteboard Services",
}

_OFFICE365_DOC_NAMES = """
App Studio for Microsoft Teams|Augmentation Loop|Call Recorder|Connectors|DataSecurityInvestigation|
Device Management Service|EDU Assignments|EnrichmentSvc|Enterprise Copilot Platform|Groups Service|IC3 Gateway|
IC3 Gateway Non Cae|Insights Services|INT Augmentation Loop 1P|Legacy Smart Compose|Loop|Loop Web Service|
M365 Admin Services|M365 Auditing Public Protected Web API app|M365ChatClient|make.gov.powerapps.us|make.powerapps.com|
Media Analysis and Transformation Service|Message Recall|Messaging Async Media|MessagingAsyncMediaProd|
Microsoft 365 Reporting Service|Microsoft Discovery Service|Microsoft Exchange Online Protection|Microsoft Flow Portal|
Microsoft Flow Portal GCC|Microsoft Forms|Microsoft Forms Web|Microsoft Information Protection API|Microsoft Office|
Microsoft Office 365 Portal|Microsoft People Cards Service|Microsoft Planner|Microsoft Planner Client|
Microsoft SharePoint Online - SharePoint Home|Microsoft Stream Portal|Microsoft Stream Service|Microsoft Teams|
Microsoft Teams - T4L Web Client|Microsoft Teams - Teams And Channels Service|Microsoft Teams Analytics|
Microsoft Teams Chat Aggregator|Microsoft Teams Graph Service|Microsoft Teams Mailhook|Microsoft Teams Retail Service|
Microsoft Teams Services|Microsoft Teams Targeting Application|Microsoft Teams UIS|Microsoft Teams Web Client|
Microsoft To-Do web app|Microsoft Todo web app|Microsoft Virtual Events Portal|Microsoft Virtual Events Services|
Microsoft Visio Data Visualizer|Microsoft Whiteboard Services|MSAI Substrate Meeting Intelligence|
Natural Language Editor|O365 Diagnostic Service|O365 Suite UX|O365 Suite UX PathFinder|OCPS Checkin Service|Office 365|
Office 365 Exchange Microservices|Office 365 Exchange Online|Office 365 Search Service|Office 365 SharePoint Online|
Office Delve|Office Hive|Office Hive Fairfax|Office MRO Device Manager Service|Office Online Add-in SSO|
Office Online Augmentation Loop SSO|Office Online Core SSO|Office Online Loki SSO|Office Online Maker SSO|
Office Online Print SSO|Office Online Search SSO|Office Online Service|Office Online Speech SSO|Office Scripts Service|
Office Scripts Service - INT|Office Scripts Service - Local|Office Scripts Service - Test|Office Shredding Service|
Office.com|Office365 Shell DoD WCSS-Client|Office365 Shell WCSS-Client|OfficeClientService|OfficeHome|
OfficePowerPointSGS|OfficeServicesManager|One Outlook Web|OneDrive|OneDrive SyncEngine|OneNote|
Outlook Browser Extension|Outlook Service for Exchange|PowerApps Service|ProjectWorkManagement|
ProjectWorkManagement_AdminTools|ProjectWorkManagement_USGov|Protection Center|Reply-At-Mention|SharePoint eSignature|
SharePoint eSignature PPE|SharePoint Online Web Client Extensibility|
SharePoint Online Web Client Extensibility Isolated|
Skype and Teams Tenant Admin API|Skype for Business|Skype for Business Online|Skype Presence Service|Sway|
Targeted Messaging Service|Teams CMD Services Artifacts|Teams Walkie Talkie Service|Teams Walkie Talkie Service - GCC|
Viva Engage
"""
OFFICE365_APP_NAMES = frozenset(
    n.strip().casefold() for n in _OFFICE365_DOC_NAMES.replace("\n", "").split("|") if n.strip()
) | {"exchange online", "sharepoint online", "yammer", "microsoft teams"}

ADMIN_PORTAL_APP_IDS: dict[str, str] = {
    "c44b4083-3bb0-49c1-b47d-974e53cbdf3c": "Azure Portal",
    "497effe9-df71-4043-a8bb-14cf78c4b63b": "Exchange Admin Center",
    "80ccca67-54bd-44ab-8625-4b79c4dc7775": "Microsoft 365 Security and Compliance Center",
}
ADMIN_PORTAL_NAMES = frozenset(n.casefold() for n in (
    "Azure Portal", "Microsoft Azure portal", "Exchange admin center", "Exchange Admin Center",
    "Microsoft 365 admin center", "Microsoft 365 Defender portal", "Microsoft Defender portal",
    "Microsoft Entra admin center", "Microsoft Intune admin center", "Microsoft Purview compliance portal",
    "Power Platform admin center", "Microsoft Teams admin center", "Microsoft 365 Security and Compliance Center",
))


def in_app_group(group: str, app_id: str | None, app_name: str | None) -> bool:
    """Whether an app (by id, else by display name) belongs to ``Office365`` or ``MicrosoftAdminPortals``."""
    ids, names = (OFFICE365_APP_IDS, OFFICE365_APP_NAMES) if group == OFFICE365 else (
        ADMIN_PORTAL_APP_IDS, ADMIN_PORTAL_NAMES)
    if app_id and app_id.lower() in ids:
        return True
    return bool(app_name) and app_name.strip().casefold() in names  # type: ignore[union-attr]


#: built-in directory role display name (case-folded) -> role template id
ROLE_TEMPLATE_IDS: dict[str, str] = {k.casefold(): v for k, v in {
    "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Company Administrator": "62e90394-69f5-4237-9190-012177145e10",
    "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
    "Privileged Authentication Administrator": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
    "Security Administrator": "194ae4cb-b126-40b2-bd5b-6091b380977d",
    "Security Operator": "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f",
    "Security Reader": "5d6b6bb7-de71-4623-b4af-96380a352509",
    "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
    "Conditional Access Administrator": "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
    "Exchange Administrator": "29232cdf-9323-42fd-ade2-1d097af3e4de",
    "SharePoint Administrator": "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
    "Teams Administrator": "69091246-20e8-4a56-aa4d-066075b2a7a8",
    "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
    "Helpdesk Administrator": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
    "Password Administrator": "966707d0-3269-4727-9be2-8c3a10f19b9d",
    "Authentication Administrator": "c4e39bd9-1100-46d3-8c65-fb160da0071f",
    "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
    "Application Developer": "cf1c38e5-3621-4004-a7cb-879624dced7c",
    "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
    "Billing Administrator": "b0f54661-2d74-4c50-afa3-1ec803f12efe",
    "Intune Administrator": "3a2c62db-5318-420d-8d74-23affee5d9d5",
    "Compliance Administrator": "17315797-102d-40b4-93e0-432062caca18",
    "Hybrid Identity Administrator": "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",
    "Cloud Device Administrator": "7698a772-787b-4ac8-901f-60d6b08affd2",
    "Directory Readers": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
    "Directory Writers": "9360feb5-f418-4baa-8175-e2a00bac4301",
    "Reports Reader": "4a5d8f65-41da-4de4-8968-e035b65339cf",
    "Guest Inviter": "95e79109-95c0-4d8e-aee3-d01accf2d47b",
}.items()}

#: built-in authentication strength id -> (display name, allowed combinations)
BUILTIN_AUTH_STRENGTHS: dict[str, tuple[str, tuple[str, ...]]] = {
    "00000000-0000-0000-0000-000000000002": ("Multifactor authentication", (
        "windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush",
        "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse", "password,microsoftAuthenticatorPush",
        "password,softwareOath", "password,hardwareOath", "password,sms", "password,voice", "federatedMultiFactor",
        "microsoftAuthenticatorPush,federatedSingleFactor", "softwareOath,federatedSingleFactor",
        "hardwareOath,federatedSingleFactor", "sms,federatedSingleFactor", "voice,federatedSingleFactor")),
    "00000000-0000-0000-0000-000000000003": ("Passwordless MFA", (
        "windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush")),
    "00000000-0000-0000-0000-000000000004": ("Phishing-resistant MFA", (
        "windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor")),
}

#: the documented authenticationMethodModes an allowed combination may name
AUTH_METHOD_MODES = frozenset({
    "password", "voice", "hardwareOath", "softwareOath", "sms", "fido2", "windowsHelloForBusiness",
    "microsoftAuthenticatorPush", "deviceBasedPush", "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse",
    "email", "x509CertificateSingleFactor", "x509CertificateMultiFactor", "federatedSingleFactor",
    "federatedMultiFactor", "qrCodePin",
})

#: sign-in log authentication method names (authenticationDetails / AuthenticationMethodsUsed) -> mode
SIGNIN_METHOD_MODES: dict[str, str] = {k.casefold(): v for k, v in {
    "Password": "password", "Password Hash Sync": "password", "Pass-through Authentication": "password",
    "Mobile app notification": "microsoftAuthenticatorPush",
    "Microsoft Authenticator App": "microsoftAuthenticatorPush",
    "Mobile app verification code": "softwareOath", "OATH verification code": "softwareOath",
    "Hardware OATH token": "hardwareOath", "Text message": "sms", "SMS": "sms", "Phone call": "voice",
    "Voice": "voice", "FIDO2 security key": "fido2", "Passkey (device-bound)": "fido2", "Passkey": "fido2",
    "Windows Hello for Business": "windowsHelloForBusiness", "Temporary Access Pass": "temporaryAccessPassOneTime",
    "Email": "email", "X.509 Certificate": "x509CertificateMultiFactor", "Certificate": "x509CertificateMultiFactor",
    "Microsoft Authenticator (passwordless)": "deviceBasedPush", "Passwordless phone sign-in": "deviceBasedPush",
    "Federated MFA": "federatedMultiFactor", "Previously satisfied": "previouslySatisfied",
}.items()}
