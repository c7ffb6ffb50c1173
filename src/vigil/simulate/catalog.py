"""Static vocabulary the simulator draws from: Microsoft first-party apps, user agents, result codes, names."""
from __future__ import annotations

from dataclasses import dataclass

GRAPH = ("00000003-0000-0000-c000-000000000000", "Microsoft Graph")
EXCHANGE = ("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online")
SHAREPOINT = ("00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online")
TEAMS_SVC = ("cc15fd57-2c6c-4117-a88c-83b1d56b4bbe", "Microsoft Teams Services")
AAD_GRAPH = ("00000002-0000-0000-c000-000000000000", "Windows Azure Active Directory")
ARM = ("797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API")

BROWSER = "Browser"
MODERN = "Mobile Apps and Desktop clients"


@dataclass(frozen=True)
class App:
    app_id: str
    name: str
    resource: tuple[str, str]
    client_app_used: str
    workload: str  # which unified-audit workload its tokens are used for


OFFICE_HOME = App("4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome", GRAPH, BROWSER, "")
OWA = App("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", EXCHANGE, BROWSER, "Exchange")
SHAREPOINT_WEB = App("00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online", SHAREPOINT,
                     BROWSER, "SharePoint")
TEAMS = App("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", TEAMS_SVC, MODERN, "MicrosoftTeams")
OUTLOOK = App("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office", EXCHANGE, MODERN, "Exchange")
ONEDRIVE = App("ab9b8c07-8f02-4f72-87fa-80105867a763", "OneDrive SyncEngine", SHAREPOINT, MODERN, "SharePoint")
OUTLOOK_MOBILE = App("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile", EXCHANGE, MODERN, "Exchange")
AAD_POWERSHELL = App("1b730954-1685-4b74-9bfd-dac224a7b894", "Azure Active Directory PowerShell", AAD_GRAPH,
                     MODERN, "")
AZURE_CLI = App("04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Microsoft Azure CLI", ARM, MODERN, "")
# Exchange Online reached over a legacy protocol (basic auth): the client app names the protocol
EXCHANGE_LEGACY = App("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online", EXCHANGE, "IMAP4",
                      "Exchange")
#: (ClientAppUsed, user agent) of legacy-protocol password guessing
IMAP = ("IMAP4", "")
SMTP_AUTH = ("Authenticated SMTP", "")
# A line-of-business web app of the tenant: a confidential client calling Graph on the user's behalf.
LOB_EXPENSES = App("6b0f9a3e-5c1d-4e8a-9f27-3d4c5b6a7e81", "Contoso Expenses", GRAPH, MODERN, "")

#: apps refreshed hourly by a desktop session, with the workload their tokens serve
DESKTOP_APPS = (TEAMS, OUTLOOK, ONEDRIVE)

# Interactive browsers (UA, DeviceDetail.browser, DeviceDetail.operatingSystem)
UA_EDGE_WIN = (("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"), "Edge 131.0.0", "Windows10")
UA_CHROME_WIN = (("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0.0.0 Safari/537.36"), "Chrome 131.0.0", "Windows10")
UA_SAFARI_MAC = (("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                  "Version/18.1 Safari/605.1.15"), "Safari 18.1", "MacOs")
UA_OUTLOOK_IOS = ("Outlook-iOS/2.0", "", "Ios 18.1.1")
UA_OUTLOOK_ANDROID = ("Outlook-Android/2.0", "", "Android 14")
UA_WAM = "Windows-AzureAD-Authentication-Provider/1.0"

# Attacker tooling
UA_ROPC = "BAV2ROPC"
UA_PYTHON = "python-requests/2.32.3"
UA_AXIOS = "axios/1.7.7"
UA_FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
UA_CHROME_LINUX = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/130.0.0.0 Safari/537.36")
UA_CHROME_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "Chrome/131.0.0.0 Safari/537.36")

#: Entra ResultType -> ResultDescription (Status.failureReason carries the same text)
RESULTS = {
    "0": "",
    "50126": "Error validating credentials due to invalid username or password.",
    "50053": "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.",
    "500121": "Authentication failed during strong authentication request.",
    "50074": "Strong Authentication is required.",
    "50076": "Due to a configuration change made by your administrator, or because you moved to a new location, "
             "you must use multi-factor authentication to access the resource.",
    "50140": "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
    "50034": "The user account does not exist in the tenant directory.",
    "50057": "User account is disabled. The account has been disabled by an administrator.",
    "53003": "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.",
    "50055": "The password is expired.",
}
INTERRUPTS = {"50074", "50076", "50140"}

DEPARTMENTS = {
    "Sales": ("Account Executive", "Sales Manager", "Sales Development Representative"),
    "Engineering": ("Software Engineer", "Senior Software Engineer", "Engineering Manager", "QA Engineer"),
    "Finance": ("Financial Analyst", "Accountant", "Finance Manager"),
    "Human Resources": ("HR Business Partner", "Recruiter"),
    "IT": ("Systems Administrator", "Service Desk Analyst", "IT Manager"),
    "Marketing": ("Marketing Specialist", "Content Manager"),
    "Operations": ("Operations Analyst", "Office Manager"),
    "Legal": ("Legal Counsel", "Paralegal"),
    "Customer Support": ("Support Engineer", "Support Team Lead"),
}

FIRST = {
    "GB": ("Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Noah", "Emily", "Jack", "Sophie", "Thomas", "Grace"),
    "US": ("James", "Olivia", "Michael", "Emma", "William", "Mia", "Ethan", "Abigail", "Daniel", "Madison"),
    "DE": ("Lukas", "Anna", "Jonas", "Lea", "Felix", "Hannah", "Paul", "Marie", "Leon", "Laura"),
    "IN": ("Aarav", "Ananya", "Vihaan", "Diya", "Arjun", "Priya", "Rohan", "Kavya", "Aditya", "Isha"),
    "BG": ("Georgi", "Maria", "Ivan", "Elena", "Dimitar", "Viktoria", "Nikolay", "Desislava", "Petar", "Yoana"),
    "BR": ("Lucas", "Beatriz", "Gabriel", "Julia", "Matheus", "Larissa", "Rafael", "Camila", "Pedro", "Fernanda"),
}
LAST = {
    "GB": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Evans", "Thomas", "Roberts"),
    "US": ("Johnson", "Miller", "Davis", "Garcia", "Rodriguez", "Martinez", "Anderson", "Moore", "Clark"),
    "DE": ("Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann"),
    "IN": ("Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Menon", "Rao", "Kumar", "Singh"),
    "BG": ("Ivanov", "Petrova", "Georgiev", "Dimitrova", "Nikolov", "Todorova", "Stoyanov", "Hristova"),
    "BR": ("Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Costa", "Ferreira", "Almeida"),
}

#: offices: country -> (city, share of staff)
OFFICES = {"GB": ("London", 0.33), "US": ("New York", 0.2), "DE": ("Frankfurt am Main", 0.12),
           "IN": ("Bengaluru", 0.13), "BG": ("Sofia", 0.13), "BR": ("Sao Paulo", 0.09)}
#: VPN gateway failover order (the seed case: GB, then BG, then BR)
VPN_ORDER = ("GB", "BG", "BR", "US", "DE")

SHAREPOINT_SITES = ("https://contoso.sharepoint.com/sites/Finance", "https://contoso.sharepoint.com/sites/Engineering",
                    "https://contoso.sharepoint.com/sites/Sales", "https://contoso.sharepoint.com/sites/HR",
                    "https://contoso.sharepoint.com/sites/Intranet")
FILE_NAMES = ("Q4 forecast.xlsx", "Board deck.pptx", "Customer list.xlsx", "Architecture.docx", "Payroll 2025.xlsx",
              "Roadmap.pptx", "Contract draft.docx", "Budget.xlsx", "Onboarding.docx", "Pricing.xlsx")
